// A shell job: render the script (values shell-quoted), run it with a clean environment, collect outputs.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { JobRecord, RunRecord } from '../store/runs.js';
import type { LogWriter } from './log-writer.js';
import { runShell } from './shell-runner.js';
import type { JobStatus } from './status.js';
import { render, type TemplateContext } from './template.js';
import type { ShellJob } from './workflow-spec.js';

export interface ShellJobInput {
  job: JobRecord;
  run: RunRecord;
  spec: ShellJob;
  context: TemplateContext;
  workspace: string;
  logs: LogWriter;
  /** Asked every second: true once the job was cancelled elsewhere (another instance, the API). */
  isCancelled: () => Promise<boolean>;
}

export interface ShellJobResult {
  status: JobStatus;
  reason: string | null;
  outputs: Record<string, string>;
}

const cancelPollMs = 1000;

export function runShellJob(input: ShellJobInput): { cancel(): void; done: Promise<ShellJobResult> } {
  let cancelShell: (() => void) | undefined;
  let cancelled = false;
  const done = (async (): Promise<ShellJobResult> => {
    const { spec, logs, context } = input;
    let script: string;
    const env: Record<string, string> = {};
    try {
      script = await render(spec.spec.script, context, 'shell');
      for (const [name, value] of Object.entries(spec.spec.env ?? {}))
        env[name] = await render(value, context);
    } catch (error) {
      const reason = `the script template failed: ${(error as Error).message}`;
      logs.write('system', `${reason}\n`);
      await logs.close();
      return { status: 'failed', reason, outputs: {} };
    }
    if (cancelled) return { status: 'cancelled', reason: 'cancelled', outputs: {} };
    const outputFile = join(input.workspace, '.signoff-output');
    const cwd = spec.spec.working_directory
      ? isAbsolute(spec.spec.working_directory)
        ? spec.spec.working_directory
        : resolve(input.workspace, spec.spec.working_directory)
      : input.workspace;
    const shell = runShell({
      script,
      shell: spec.spec.shell ?? 'sh',
      cwd,
      timeoutMs: spec.spec.timeout,
      // Only what the job needs: the server's own environment holds its secrets (admin token, keys).
      env: {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        HOME: input.workspace,
        LANG: process.env.LANG ?? 'C.UTF-8',
        SIGNOFF_RUN_ID: String(input.run.id),
        SIGNOFF_RUN_NUMBER: String(input.run.number),
        SIGNOFF_WORKFLOW: input.run.workflow_name,
        SIGNOFF_JOB: input.job.name,
        SIGNOFF_OUTPUT: outputFile,
        ...Object.fromEntries(
          Object.entries(input.run.params).map(([name, value]) => [`PARAM_${name.toUpperCase()}`, value]),
        ),
        ...env,
      },
      onOutput: (stream, text) => logs.write(stream, text),
    });
    cancelShell = shell.cancel;
    if (cancelled) shell.cancel();
    const watcher = setInterval(() => {
      void input.isCancelled().then(
        (gone) => gone && shell.cancel(),
        () => {},
      );
    }, cancelPollMs);
    const result = await shell.done.finally(() => clearInterval(watcher));
    const outputs = await readOutputs(outputFile);
    let status: JobStatus;
    let reason: string | null;
    if (result.spawnError)
      [status, reason] = ['failed', `could not start ${spec.spec.shell ?? 'sh'}: ${result.spawnError}`];
    else if (result.cancelled) [status, reason] = ['cancelled', 'cancelled'];
    else if (result.timedOut) [status, reason] = ['timeout', `did not finish within its timeout`];
    else if (result.exitCode === 0) [status, reason] = ['passed', null];
    else if (result.exitCode !== null) [status, reason] = ['failed', `exit code ${result.exitCode}`];
    else [status, reason] = ['failed', `killed by ${result.signal}`];
    if (reason) logs.write('system', `${reason}\n`);
    await logs.close();
    return { status, reason, outputs };
  })();
  return {
    done,
    cancel: () => {
      cancelled = true;
      cancelShell?.();
    },
  };
}

/** `$SIGNOFF_OUTPUT` holds `name=value` lines, like GitHub Actions' `$GITHUB_OUTPUT`. */
async function readOutputs(path: string): Promise<Record<string, string>> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const outputs: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) outputs[line.slice(0, at).trim()] = line.slice(at + 1);
  }
  return outputs;
}
