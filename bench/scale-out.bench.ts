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
// Beside each row, where the CPU went, since on a small machine the instances, PostgreSQL and this process
// share the same cores: the machine's busy share during the throughput phase (/proc/stat); CPU time per run
// of the instances, of the PostgreSQL backends serving the cluster's database, and of this process (load
// balancer and client), from /proc/<pid>/stat; what the idle cluster costs per second; and how busy the
// whole machine was while the cluster was idle (its own idle cost, plus other work on a shared machine).
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
/** Per instance: each process warms its own JIT, caches and connection pools. */
const warmupRunsPerInstance = 20;
const concurrency = 20;
const decisions = 200;
const warmupDecisions = 10;
const workflow = 'bench-scale';
/** How long the idle cluster's CPU use is measured. */
const idleMs = 5_000;

/** The PostgreSQL server the clusters run on: a database of their own is created on it each time. */
const serverUrl =
  process.env.SIGNOFF_BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

interface Row {
  label: string;
  instances: number;
  runsPerSecond: number;
  /** Share of the machine's CPU in use while the runs went through (anything else running included). */
  cpuBusy: number;
  /** CPU time per run, in ms, by part: the instances, PostgreSQL (this database's backends), this process. */
  perRun: CpuParts;
  /** CPU the idle cluster uses per second, in ms, by part (queue polling, heartbeats, reconcile checks). */
  idlePerSecond: CpuParts;
  /** Share of the machine's CPU in use while the cluster was idle: its own idle cost and any other work. */
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

interface CpuParts {
  instances: number;
  postgres: number;
  bench: number;
}

/** CPU time (user + system) a process has used so far, in ms; 0 when it is gone. */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * msPerTick;
  } catch {
    return 0;
  }
}

/**
 * Where the CPU goes, part by part: the instances' processes, the PostgreSQL backends serving this
 * cluster's database (their pids from pg_stat_activity; a backend that appears later counts from zero), and
 * this process (the load balancer and the client). Call `read` before and after; `since` gives the deltas.
 */
function cpuMeter(cluster: Cluster, postgres: pg.Client | undefined) {
  const read = async () => {
    const backends = postgres
      ? (
          await postgres.query<{ pid: number }>(
            'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
          )
        ).rows.map((row) => row.pid)
      : [];
    const usage = process.cpuUsage();
    return {
      instances: new Map(
        cluster.instances.map((instance) => [instance.pid ?? 0, processCpuMs(instance.pid ?? 0)]),
      ),
      backends: new Map(backends.map((pid) => [pid, processCpuMs(pid)])),
      bench: (usage.user + usage.system) / 1000,
    };
  };
  type Reading = Awaited<ReturnType<typeof read>>;
  const delta = (before: Map<number, number>, after: Map<number, number>) =>
    [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0);
  return {
    read,
    async since(before: Reading): Promise<CpuParts> {
      const after = await read();
      return {
        instances: delta(before.instances, after.instances),
        postgres: delta(before.backends, after.backends),
        bench: after.bench - before.bench,
      };
    },
  };
}

const scaled = (parts: CpuParts, by: number): CpuParts => ({
  instances: parts.instances / by,
  postgres: parts.postgres / by,
  bench: parts.bench / by,
});

/** Runs ended, found with one list request per tick (see throughput.bench.ts, EndWatcher). */
async function throughput(cluster: Cluster, count: number): Promise<{ perSecond: number; cpuBusy: number }> {
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
  let postgres: pg.Client | undefined;
  try {
    if (cluster.databaseUrl) {
      postgres = new pg.Client({ connectionString: cluster.databaseUrl });
      await postgres.connect();
    }
    const meter = cpuMeter(cluster, postgres);
    await api(cluster, 'POST', '/api/workflows', approvalThenShell(workflow));
    await throughput(cluster, warmupRunsPerInstance * instances);
    const idleStart = await meter.read();
    const idle = await idleBusy(idleMs);
    const idlePerSecond = scaled(await meter.since(idleStart), idleMs / 1000);
    progress(`${label}: ${throughputRuns} runs, ${concurrency} in flight`);
    const busyStart = await meter.read();
    const { perSecond, cpuBusy } = await throughput(cluster, throughputRuns);
    const perRun = scaled(await meter.since(busyStart), throughputRuns);
    progress(`${label}: ${warmupDecisions} + ${decisions} decisions, one at a time`);
    const measured = await decisionLatency(cluster, warmupDecisions + decisions);
    return {
      label,
      instances,
      runsPerSecond: perSecond,
      cpuBusy,
      perRun,
      idlePerSecond,
      idleBusy: idle,
      latency: summarize(measured.latencyMs.slice(warmupDecisions)),
      roundTrip: summarize(measured.roundTripMs.slice(warmupDecisions)),
    };
  } finally {
    await postgres?.end();
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
      'CPU/run: instances + PostgreSQL + LB/client',
      'idle CPU/s: instances + PostgreSQL',
      'machine busy when idle',
    ];
    const lines = rows.map((row) => [
      row.label,
      row.runsPerSecond.toFixed(1),
      `${row.latency.p50.toFixed(0)} ms`,
      `${row.latency.p99.toFixed(0)} ms`,
      `${row.latency.max.toFixed(0)} ms`,
      `${row.roundTrip.p50.toFixed(0)} ms`,
      `${(100 * row.cpuBusy).toFixed(0)} %`,
      `${row.perRun.instances.toFixed(0)} + ${row.perRun.postgres.toFixed(0)} + ${row.perRun.bench.toFixed(0)} ms`,
      `${row.idlePerSecond.instances.toFixed(0)} + ${row.idlePerSecond.postgres.toFixed(0)} ms`,
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
        { name: `${row.label}: CPU per run, instances`, value: row.perRun.instances, unit: 'ms', digits: 0 },
        { name: `${row.label}: CPU per run, PostgreSQL`, value: row.perRun.postgres, unit: 'ms', digits: 0 },
        {
          name: `${row.label}: CPU per run, load balancer and client`,
          value: row.perRun.bench,
          unit: 'ms',
          digits: 0,
        },
        {
          name: `${row.label}: idle CPU per second, instances + PostgreSQL`,
          value: row.idlePerSecond.instances + row.idlePerSecond.postgres,
          unit: 'ms',
          digits: 0,
        },
        {
          name: `${row.label}: machine busy while the cluster was idle (its own cost and other work)`,
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
