// Live progress of a run until it ends: polls the run, prints a line whenever a job changes, and exits
// with a code that says how the run ended. Line mode only, so it reads the same on a terminal, piped into
// a file or in CI logs. Ctrl-C stops watching; the run itself goes on.
import { type Run, type SignoffClient, UnreachableError } from '../client.js';
import type { Output, Style } from '../render.js';
import { defineCommand, printJson, runIdArgs } from './define.js';
import {
  decisionText,
  exitCodeHelp,
  exitCodeOf,
  exitCodes,
  failedJobs,
  jobPath,
  jobProgressLine,
  runSummaryLine,
} from './run-text.js';

const pollMs = 300;
/** How long the server may be unreachable (e.g. restarting) before watching gives up. */
const patienceMs = 60_000;

export interface WatchOptions {
  /** Where progress lines go (stdout normally, stderr when stdout carries JSON). */
  progress: (line: string) => void;
  style: Style;
  /** Called once with the final run. */
  onEnd?: (run: Run) => void;
}

/** Watches run `id` until it ends; returns the exit code for its outcome (130 when interrupted). */
export async function watchRun(client: SignoffClient, id: number, options: WatchOptions): Promise<number> {
  const { progress, style } = options;
  const controller = new AbortController();
  const interrupt = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  const seen = new Map<string, { status: string; decisions: number }>();
  let lostSince: number | undefined;
  try {
    for (;;) {
      let run: Run;
      try {
        run = await client.get<Run>(`/api/runs/${id}`, { signal: controller.signal });
        if (lostSince !== undefined) progress(style.dim('  (the server answers again)'));
        lostSince = undefined;
      } catch (error) {
        if (controller.signal.aborted) break;
        if (!(error instanceof UnreachableError)) throw error;
        if (lostSince === undefined) {
          lostSince = Date.now();
          progress(style.dim(`  (lost the server: ${error.message}; trying again for up to a minute)`));
        } else if (Date.now() - lostSince > patienceMs) {
          throw error;
        }
        await sleep(1000, controller.signal);
        continue;
      }
      for (const line of changes(run, seen, style)) progress(line);
      if (run.finished_at !== null) {
        progress(runSummaryLine(run, style));
        for (const job of failedJobs(run))
          progress(style.dim(`  its log: signoff logs ${run.id} ${job.name}`));
        options.onEnd?.(run);
        return exitCodeOf(run.status);
      }
      await sleep(pollMs, controller.signal);
      if (controller.signal.aborted) break;
    }
    progress(style.dim(`Stopped watching; run ${id} goes on. Watch it again with: signoff watch ${id}`));
    return exitCodes.interrupted;
  } finally {
    process.removeListener('SIGINT', interrupt);
  }
}

/** The progress lines for what changed since the last look, in stage and job order. */
function changes(run: Run, seen: Map<string, { status: string; decisions: number }>, style: Style): string[] {
  const lines: string[] = [];
  for (const stage of run.stages) {
    for (const job of stage.jobs) {
      const key = jobPath(stage, job);
      const before = seen.get(key);
      const decisions = job.approval?.decisions ?? [];
      seen.set(key, { status: job.status, decisions: decisions.length });
      // Nothing to tell about jobs that have not started; a job seen for the first time already
      // running or done is told as it is now.
      if (job.status === 'pending' || job.status === 'queued') continue;
      if (before?.status !== job.status) {
        lines.push(jobProgressLine(run, stage, job, style));
        if (job.status === 'waiting_for_approval' && job.approval?.description) {
          lines.push(style.dim(`      ${job.approval.description}`));
        }
      }
      // Decisions that did not settle the approval yet (the one that settles it is in the job's reason).
      const news =
        job.status !== 'waiting_for_approval'
          ? []
          : before?.status === job.status
            ? decisions.slice(before.decisions)
            : decisions;
      for (const decision of news) lines.push(`  ${style.dim('…')} ${key}: ${decisionText(decision, style)}`);
    }
  }
  return lines;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export const watch = defineCommand({
  name: 'watch',
  usage: 'watch <run>',
  summary: 'Follow a run live until it ends; the exit code says how it ended',
  help: `Prints a line each time a job starts, waits for approval, gets a decision or ends, then a summary.
Ctrl-C stops watching; the run goes on.

Options:
  --json      print the final run as JSON on stdout (progress goes to stderr)

${exitCodeHelp}

Example:
  signoff watch 42`,
  async run(args, { client, out }) {
    const { id, json } = runIdArgs(args);
    return watchAndReport(client(), id, out, json);
  },
});

/** Shared by `watch` and `run --watch`. */
export function watchAndReport(
  client: SignoffClient,
  id: number,
  out: Output,
  json: boolean,
): Promise<number> {
  return watchRun(client, id, {
    progress: json ? out.note : out.print,
    style: json ? out.errStyle : out.style,
    ...(json ? { onEnd: (run: Run) => printJson(out, run) } : {}),
  });
}
