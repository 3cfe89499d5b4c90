// Runs per second, end to end through the API: start a run, decide its approval as soon as it waits, and
// count it when it has ended, with a bounded number of runs in flight. The baseline is the same
// measurement for a workflow with only the shell job, in the same process, so the ratio is what the
// approval (its waitpoint, deadline job and decision) costs.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  approvalThenShell,
  type BenchSignoff,
  inParallel,
  poll,
  startBenchSignoff,
} from './in-process-signoff.js';
import type { Benchmark } from './report.js';
import { summarize } from './stats.js';

const runs = 300;
const warmup = 10;
const baselineRuns = 150;
const spawns = 50;
const concurrency = 20;

/**
 * Resolves runs as they end with one list request per tick instead of one read per run. A run is only
 * registered once it can no longer wait for approval (started, or decided), and from there a run only
 * moves running → ended, so a registered run missing from `status=running` has ended.
 */
class EndWatcher {
  private readonly waiting = new Map<number, () => void>();
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly stack: BenchSignoff,
    private readonly workflow: string,
  ) {
    this.loop = this.watch();
  }

  ended(runId: number): Promise<void> {
    return new Promise((resolve) => this.waiting.set(runId, resolve));
  }

  private async watch(): Promise<void> {
    while (!this.stopped) {
      if (this.waiting.size > 0) {
        const registered = [...this.waiting.keys()];
        const { runs: running } = await this.stack.call(
          'GET',
          `/api/runs?workflow=${this.workflow}&status=running&limit=500`,
        );
        const still = new Set<number>(running.map((run: { id: number }) => run.id));
        for (const id of registered) {
          if (!still.has(id)) {
            this.waiting.get(id)!();
            this.waiting.delete(id);
          }
        }
      }
      await sleep(2);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

async function measure(
  stack: BenchSignoff,
  workflow: string,
  count: number,
  withApproval: boolean,
): Promise<{ perSecond: number; seconds: number; cpuMsPerRun: number }> {
  const watcher = new EndWatcher(stack, workflow);
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  try {
    await inParallel(
      Array.from({ length: count }, (_, i) => i),
      concurrency,
      async () => {
        let run = await stack.call('POST', `/api/workflows/${workflow}/runs`, {});
        if (withApproval) {
          run = await poll(async () => {
            const current =
              run.status === 'waiting_for_approval' ? run : await stack.call('GET', `/api/runs/${run.id}`);
            return current.status === 'waiting_for_approval' ? current : undefined;
          }, `run ${run.id} to wait for approval`);
          await stack.call('POST', `/api/runs/${run.id}/jobs/approve/decision`, { decision: 'approve' });
        }
        await watcher.ended(run.id);
      },
    );
  } finally {
    await watcher.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  return { perSecond: count / seconds, seconds, cpuMsPerRun: (cpu.user + cpu.system) / 1000 / count };
}

/**
 * The operating system's part of a shell job: spawning `sh -e -c true` the way the shell runner does, from
 * this process (which hosts the server, so the cost of forking a process of this size is included).
 */
async function spawnTrue(count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn('sh', ['-e', '-c', 'true'], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      });
      child.once('error', reject);
      child.once('close', () => resolve());
    });
    times.push(performance.now() - start);
  }
  return times;
}

async function countPassed(stack: BenchSignoff, workflow: string): Promise<number> {
  const { runs: passed } = await stack.call('GET', `/api/runs?workflow=${workflow}&status=passed&limit=500`);
  return passed.length;
}

export const benchmark: Benchmark = {
  name: 'throughput',
  title: `Throughput: ${runs} runs of (native approval decided by API → shell \`true\`), ${concurrency} in flight (PGlite, in-process)`,
  async run({ progress }) {
    const stack = await startBenchSignoff();
    try {
      await stack.call('POST', '/api/workflows', approvalThenShell('bench-throughput'));
      await stack.call(
        'POST',
        '/api/workflows',
        'name: bench-shell-only\nstages:\n  - name: ship\n    jobs:\n      - name: deploy\n        type: shell\n        spec: { script: "true" }\n',
      );
      progress(`warm-up: ${warmup} runs of each workflow`);
      await measure(stack, 'bench-shell-only', warmup, false);
      await measure(stack, 'bench-throughput', warmup, true);
      progress(`baseline: ${baselineRuns} shell-only runs`);
      const baseline = await measure(stack, 'bench-shell-only', baselineRuns, false);
      progress(`${runs} approval + shell runs`);
      const measured = await measure(stack, 'bench-throughput', runs, true);
      progress(`baseline: ${spawns} spawns of sh -e -c true from this process`);
      const spawnTimes = summarize(await spawnTrue(spawns));
      const rssMiB = process.memoryUsage().rss / 2 ** 20;
      for (const [workflow, expected] of [
        ['bench-shell-only', baselineRuns + warmup],
        ['bench-throughput', runs + warmup],
      ] as const) {
        const passed = await countPassed(stack, workflow);
        if (passed !== expected) throw new Error(`${workflow}: ${passed} of ${expected} runs passed`);
      }
      return [
        { name: 'approval + shell runs per second', value: measured.perSecond, unit: 'runs/s' },
        { name: `approval + shell: ${runs} runs took`, value: measured.seconds, unit: 's', digits: 2 },
        {
          name: 'approval + shell: CPU of this process per run (server, client, watcher)',
          value: measured.cpuMsPerRun,
          unit: 'ms',
        },
        { name: 'baseline: shell-only runs per second', value: baseline.perSecond, unit: 'runs/s' },
        {
          name: 'baseline: shell-only, CPU of this process per run',
          value: baseline.cpuMsPerRun,
          unit: 'ms',
        },
        {
          name: 'approval + shell / shell-only',
          value: measured.perSecond / baseline.perSecond,
          unit: '×',
          digits: 2,
        },
        {
          name: 'baseline: spawn sh -c true from the server process, p50',
          value: spawnTimes.p50,
          unit: 'ms',
        },
        {
          name: 'baseline: spawn sh -c true from the server process, p99',
          value: spawnTimes.p99,
          unit: 'ms',
        },
        { name: 'RSS of the process hosting the server (in-process)', value: rssMiB, unit: 'MiB', digits: 0 },
      ];
    } finally {
      await stack.close();
    }
  },
};
