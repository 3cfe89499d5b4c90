// Scaling out: the same two measures as `throughput` and `decision-latency`, through a load balancer, with
// 1, 2 and 3 `signoff serve` processes on one PostgreSQL database, and with one process on PGlite beside
// them. The processes are the compiled server (`npm run bench` builds first) started by test/cluster.ts,
// whose round-robin load balancer runs in this process; every configuration goes through it, so its cost
// is in every row alike. Each PostgreSQL configuration gets a fresh database on the server.
//
// - runs per second: start a run of (native approval → shell `true`), decide it through the API as soon as
//   it waits, count it when it has ended; 20 runs in flight.
// - decision latency: as in decision-latency.bench.ts, the next job's `started_at` (set by the database
//   when the engine claims it) minus the wall clock just before the decision request; one decision at a
//   time, each after the previous run has ended. (The database's clock is this machine's: PostgreSQL runs
//   here too.)
//
// Beside each row: how busy the machine's CPUs were during the throughput phase (/proc/stat), since on a
// small machine the instances, PostgreSQL and this process share the same cores.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { type Cluster, type ClusterDatabase, startCluster } from '../test/cluster.js';
import { approvalThenShell, inParallel, jobOf, poll } from './in-process-signoff.js';
import type { Benchmark, Figure } from './report.js';
import { summarize } from './stats.js';

const throughputRuns = 200;
const warmupRuns = 10;
const concurrency = 20;
const decisions = 200;
const warmupDecisions = 10;
const workflow = 'bench-scale';

/** The PostgreSQL server the clusters run on: a database of their own is created on it each time. */
const serverUrl =
  process.env.SIGNOFF_BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

interface Row {
  label: string;
  instances: number;
  runsPerSecond: number;
  cpuBusy: number;
  /** CPU time of the whole machine (instances, PostgreSQL, this process) per run, in ms. */
  cpuMsPerRun: number;
  /** Share of the machine's CPU the idle instances use (queue polling, heartbeats, reconcile checks). */
  idleBusy: number;
  latency: ReturnType<typeof summarize>;
  roundTrip: ReturnType<typeof summarize>;
}

async function api(cluster: Cluster, method: string, path: string, body?: unknown): Promise<any> {
  const expected = method === 'POST' && /\/runs$|\/workflows$/.test(path) ? 201 : 200;
  const { status, body: answer } = await cluster.call(method, path, body);
  if (status !== expected)
    throw new Error(`${method} ${path} answered ${status} (expected ${expected}): ${JSON.stringify(answer)}`);
  return answer;
}

/** /proc/stat counts in USER_HZ, 100 per second on Linux. */
const msPerTick = 10;

/** Busy and total CPU time of the whole machine so far (/proc/stat, in clock ticks). */
function cpuTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

/** Runs ended, found with one list request per tick (see throughput.bench.ts, EndWatcher). */
async function throughput(
  cluster: Cluster,
  count: number,
): Promise<{ perSecond: number; cpuBusy: number; cpuMsPerRun: number }> {
  const waiting = new Map<number, () => void>();
  let stopped = false;
  const watcher = (async () => {
    while (!stopped) {
      if (waiting.size > 0) {
        const registered = [...waiting.keys()];
        const { runs } = await api(cluster, 'GET', `/api/runs?workflow=${workflow}&status=running&limit=500`);
        const still = new Set<number>(runs.map((run: { id: number }) => run.id));
        for (const id of registered) {
          if (!still.has(id)) {
            waiting.get(id)!();
            waiting.delete(id);
          }
        }
      }
      await sleep(10);
    }
  })();
  const cpuStart = cpuTicks();
  const started = performance.now();
  try {
    await inParallel(
      Array.from({ length: count }, (_, i) => i),
      concurrency,
      async () => {
        let run = await api(cluster, 'POST', `/api/workflows/${workflow}/runs`, {});
        run = await poll(async () => {
          const current =
            run.status === 'waiting_for_approval' ? run : await api(cluster, 'GET', `/api/runs/${run.id}`);
          return current.status === 'waiting_for_approval' ? current : undefined;
        }, `run ${run.id} to wait for approval`);
        await api(cluster, 'POST', `/api/runs/${run.id}/jobs/approve/decision`, { decision: 'approve' });
        // Registered only once it can no longer wait: from here it only moves running → ended.
        await new Promise<void>((resolve) => waiting.set(run.id, resolve));
      },
    );
  } finally {
    stopped = true;
    await watcher;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuEnd = cpuTicks();
  return {
    perSecond: count / seconds,
    cpuBusy: (cpuEnd.busy - cpuStart.busy) / (cpuEnd.total - cpuStart.total),
    cpuMsPerRun: ((cpuEnd.busy - cpuStart.busy) * msPerTick) / count,
  };
}

/** The machine's busy share over `ms` while nothing is asked of the instances. */
async function idleBusy(ms: number): Promise<number> {
  const before = cpuTicks();
  await sleep(ms);
  const after = cpuTicks();
  return (after.busy - before.busy) / (after.total - before.total);
}

async function decisionLatency(
  cluster: Cluster,
  count: number,
): Promise<{ latencyMs: number[]; roundTripMs: number[] }> {
  const ids: number[] = [];
  await inParallel(
    Array.from({ length: count }, (_, i) => i),
    8,
    async () => {
      const run = await api(cluster, 'POST', `/api/workflows/${workflow}/runs`, {});
      if (run.status !== 'waiting_for_approval')
        throw new Error(`run ${run.id} is ${run.status}, not waiting`);
      ids.push(run.id);
    },
  );
  const latencyMs: number[] = [];
  const roundTripMs: number[] = [];
  for (const id of ids) {
    const wallStart = Date.now();
    const start = performance.now();
    const approval = await api(cluster, 'POST', `/api/runs/${id}/jobs/approve/decision`, {
      decision: 'approve',
    });
    roundTripMs.push(performance.now() - start);
    if (approval.status !== 'approved') throw new Error(`run ${id}: approval is ${approval.status}`);
    await poll(
      async () => {
        const { runs } = await api(cluster, 'GET', `/api/runs?workflow=${workflow}&status=running&limit=1`);
        return runs.length === 0 ? true : undefined;
      },
      `run ${id} to end`,
      { intervalMs: 10 },
    );
    const run = await api(cluster, 'GET', `/api/runs/${id}`);
    if (run.status !== 'passed') throw new Error(`run ${id} ended ${run.status}: ${run.reason}`);
    latencyMs.push(Date.parse(jobOf(run, 'deploy').started_at) - wallStart);
  }
  return { latencyMs, roundTripMs };
}

async function measure(
  label: string,
  database: ClusterDatabase,
  instances: number,
  progress: (message: string) => void,
): Promise<Row> {
  progress(`${label}: starting ${instances} instance${instances === 1 ? '' : 's'}`);
  const cluster = await startCluster({
    instances,
    database,
    entry: 'dist',
    env: { SIGNOFF_LOG_LEVEL: 'warn' },
  });
  try {
    await api(cluster, 'POST', '/api/workflows', approvalThenShell(workflow));
    await throughput(cluster, warmupRuns);
    const idle = await idleBusy(5_000);
    progress(`${label}: ${throughputRuns} runs, ${concurrency} in flight`);
    const { perSecond, cpuBusy, cpuMsPerRun } = await throughput(cluster, throughputRuns);
    progress(`${label}: ${warmupDecisions} + ${decisions} decisions, one at a time`);
    const measured = await decisionLatency(cluster, warmupDecisions + decisions);
    return {
      label,
      instances,
      runsPerSecond: perSecond,
      cpuBusy,
      cpuMsPerRun,
      idleBusy: idle,
      latency: summarize(measured.latencyMs.slice(warmupDecisions)),
      roundTrip: summarize(measured.roundTripMs.slice(warmupDecisions)),
    };
  } finally {
    await cluster.close();
  }
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const benchmark: Benchmark = {
  name: 'scale-out',
  title: `Scale-out: runs per second and decision latency with 1, 2 and 3 signoff serve processes on PostgreSQL behind a load balancer, and 1 on PGlite`,
  async run({ progress }) {
    const rows: Row[] = [];
    rows.push(await measure('PGlite, 1 instance', { kind: 'pglite' }, 1, progress));
    if (await reachable(serverUrl)) {
      for (const instances of [1, 2, 3])
        rows.push(
          await measure(
            `PostgreSQL, ${instances} instance${instances === 1 ? '' : 's'}`,
            { kind: 'postgres', url: serverUrl },
            instances,
            progress,
          ),
        );
    } else {
      progress(
        `no PostgreSQL at ${serverUrl.replace(/\/\/[^@]*@/, '//')} (set SIGNOFF_BENCH_DATABASE_URL): PGlite only`,
      );
    }

    const header = [
      '',
      'runs/s',
      'decision p50',
      'decision p99',
      'decision max',
      'POST decision p50',
      'CPU busy',
    ];
    const lines = rows.map((row) => [
      row.label,
      row.runsPerSecond.toFixed(1),
      `${row.latency.p50.toFixed(0)} ms`,
      `${row.latency.p99.toFixed(0)} ms`,
      `${row.latency.max.toFixed(0)} ms`,
      `${row.roundTrip.p50.toFixed(0)} ms`,
      `${(100 * row.cpuBusy).toFixed(0)} %`,
      `${row.cpuMsPerRun.toFixed(0)} ms`,
      `${(100 * row.idleBusy).toFixed(0)} %`,
    ]);
    const widths = header.map((title, column) =>
      Math.max(title.length, ...lines.map((line) => line[column]!.length)),
    );
    const render = (cells: string[]) =>
      `  ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')}`;
    console.log(`\n${[render(header), ...lines.map(render)].join('\n')}`);
    console.log(
      `  (load average now ${loadavg()
        .map((load) => load.toFixed(2))
        .join(' ')})`,
    );

    const figures: Figure[] = [];
    for (const row of rows) {
      figures.push(
        { name: `${row.label}: runs per second`, value: row.runsPerSecond, unit: 'runs/s' },
        { name: `${row.label}: decision → next job started, p50`, value: row.latency.p50, unit: 'ms' },
        { name: `${row.label}: decision → next job started, p99`, value: row.latency.p99, unit: 'ms' },
        {
          name: `${row.label}: CPU busy (whole machine) while running`,
          value: 100 * row.cpuBusy,
          unit: '%',
          digits: 0,
        },
        {
          name: `${row.label}: CPU time per run (whole machine)`,
          value: row.cpuMsPerRun,
          unit: 'ms',
          digits: 0,
        },
        {
          name: `${row.label}: CPU busy (whole machine) while idle`,
          value: 100 * row.idleBusy,
          unit: '%',
          digits: 0,
        },
      );
    }
    const postgres = (instances: number) =>
      rows.find((row) => row.label.startsWith('PostgreSQL') && row.instances === instances);
    const one = postgres(1);
    for (const instances of [2, 3]) {
      const row = postgres(instances);
      if (!one || !row) continue;
      figures.push(
        {
          name: `PostgreSQL runs per second, ${instances} instances / 1`,
          value: row.runsPerSecond / one.runsPerSecond,
          unit: '×',
          digits: 2,
        },
        {
          name: `PostgreSQL decision p99, ${instances} instances / 1`,
          value: row.latency.p99 / one.latency.p99,
          unit: '×',
          digits: 2,
        },
      );
    }
    const lite = rows.find((row) => row.label.startsWith('PGlite'));
    if (lite && one)
      figures.push({
        name: 'runs per second, PostgreSQL 1 instance / PGlite',
        value: one.runsPerSecond / lite.runsPerSecond,
        unit: '×',
        digits: 2,
      });
    return figures;
  },
};
