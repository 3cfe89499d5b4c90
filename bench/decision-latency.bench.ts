// Native approval decided through the API → the next job started. The latency is the shell job's
// `started_at` (set by the database when the engine claims the job) minus the wall clock just before the
// decision request: both come from this machine's clock, so nothing depends on how often we look.
// Decisions go one at a time, each after the previous run has ended, so each one is measured alone.
import { performance } from 'node:perf_hooks';
import {
  approvalThenShell,
  type BenchSignoff,
  jobOf,
  poll,
  startBenchSignoff,
} from './in-process-signoff.js';
import type { Benchmark, Figure } from './report.js';
import { summarize } from './stats.js';

const decisions = 1000;
const warmup = 20;
const workflow = 'bench-decision';

async function startRuns(stack: BenchSignoff, count: number): Promise<{ ids: number[]; startMs: number[] }> {
  const ids: number[] = [];
  const startMs: number[] = [];
  for (let i = 0; i < count; i++) {
    const before = performance.now();
    const run = await stack.call('POST', `/api/workflows/${workflow}/runs`, {});
    startMs.push(performance.now() - before);
    if (run.status !== 'waiting_for_approval') throw new Error(`run ${run.id} is ${run.status}, not waiting`);
    ids.push(run.id);
  }
  return { ids, startMs };
}

interface Sample {
  /** decision request start → next job's started_at */
  latencyMs: number;
  /** the decision request's own round trip */
  roundTripMs: number;
  /** CPU this process (server and client alike) spent during the decision request */
  cpuMs: number;
  /** a plain read of the same run just before: the baseline */
  readMs: number;
  startedBeforeResponse: boolean;
}

async function decideOne(stack: BenchSignoff, id: number): Promise<Sample> {
  const readStart = performance.now();
  await stack.call('GET', `/api/runs/${id}`);
  const readMs = performance.now() - readStart;

  const wallStart = Date.now();
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const approval = await stack.call('POST', `/api/runs/${id}/jobs/approve/decision`, { decision: 'approve' });
  const roundTripMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const wallEnd = Date.now();
  if (approval.status !== 'approved') throw new Error(`run ${id}: approval is ${approval.status}`);

  // Wait for the run to end so the next decision does not share the machine with this shell job. The
  // wait asks the cheapest question (is it still running?) so polling costs the shell job little.
  await poll(
    async () => {
      const { runs } = await stack.call('GET', `/api/runs?workflow=${workflow}&status=running&limit=1`);
      return runs.length === 0 ? true : undefined;
    },
    `run ${id} to end`,
    { intervalMs: 10 },
  );
  const run = await stack.call('GET', `/api/runs/${id}`);
  if (run.status !== 'passed') throw new Error(`run ${id} ended ${run.status}: ${run.reason}`);
  const startedAt = Date.parse(jobOf(run, 'deploy').started_at);
  return {
    latencyMs: startedAt - wallStart,
    roundTripMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    readMs,
    startedBeforeResponse: startedAt <= wallEnd,
  };
}

export const benchmark: Benchmark = {
  name: 'decision-latency',
  title: `Native approval decision → next job started (${decisions} decisions, one at a time, PGlite, in-process)`,
  async run({ progress }) {
    const stack = await startBenchSignoff();
    try {
      await stack.call('POST', '/api/workflows', approvalThenShell(workflow));
      progress(`starting ${warmup + decisions} runs that wait for approval`);
      const { ids, startMs } = await startRuns(stack, warmup + decisions);
      progress(`${warmup} warm-up decisions, then ${decisions} measured`);
      for (const id of ids.slice(0, warmup)) await decideOne(stack, id);
      const samples: Sample[] = [];
      for (const id of ids.slice(warmup)) samples.push(await decideOne(stack, id));

      const latency = summarize(samples.map((sample) => sample.latencyMs));
      const roundTrip = summarize(samples.map((sample) => sample.roundTripMs));
      const read = summarize(samples.map((sample) => sample.readMs));
      const cpu = summarize(samples.map((sample) => sample.cpuMs));
      const start = summarize(startMs.slice(warmup));
      const early = samples.filter((sample) => sample.startedBeforeResponse).length;
      const figures: Figure[] = [
        { name: 'decision → next job started, p50', value: latency.p50, unit: 'ms' },
        {
          name: 'decision → next job started, p99',
          value: latency.p99,
          unit: 'ms',
          goal: { op: '<', value: 50 },
        },
        { name: 'decision → next job started, max', value: latency.max, unit: 'ms' },
        { name: 'decision request round trip, p50', value: roundTrip.p50, unit: 'ms' },
        { name: 'decision request round trip, p99', value: roundTrip.p99, unit: 'ms' },
        { name: 'CPU time during the decision request, p50', value: cpu.p50, unit: 'ms' },
        { name: 'baseline: GET /api/runs/{id} round trip, p50', value: read.p50, unit: 'ms' },
        { name: 'baseline: GET /api/runs/{id} round trip, p99', value: read.p99, unit: 'ms' },
        { name: 'decision round trip p50 / baseline read p50', value: roundTrip.p50 / read.p50, unit: '×' },
        {
          name: 'next job started before the decision answered',
          value: (100 * early) / samples.length,
          unit: '%',
        },
        { name: 'start run (POST /api/workflows/{name}/runs), p50', value: start.p50, unit: 'ms' },
        { name: 'start run, p99', value: start.p99, unit: 'ms' },
      ];
      return figures;
    } finally {
      await stack.close();
    }
  },
};
