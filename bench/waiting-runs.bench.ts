// A real `signoff serve` process on PGlite holding 1000 runs that wait for approval: its memory, and how
// long a restart takes to be ready with them. The baseline is the same restart on a data directory with
// no runs, measured in the same run and interleaved with the loaded restarts so that load from anything
// else on the machine hits both alike.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approvalThenShell, inParallel } from './in-process-signoff.js';
import type { Benchmark, Figure } from './report.js';
import { type SignoffProcess, startSignoffProcess } from './signoff-process.js';
import { median } from './stats.js';

const waitingRuns = 1000;
const restarts = 3;
const token = 'bench-admin-token-0123456789abcdef';

export const benchmark: Benchmark = {
  name: 'waiting-runs',
  title: `A signoff serve process with ${waitingRuns} runs waiting for approval (PGlite data directory)`,
  async run({ progress }) {
    const emptyDir = mkdtempSync(join(tmpdir(), 'signoff-bench-empty-'));
    const loadedDir = mkdtempSync(join(tmpdir(), 'signoff-bench-loaded-'));
    let server: SignoffProcess | undefined;
    const start = async (dataDir: string) => {
      server = await startSignoffProcess({ SIGNOFF_DATA_DIR: dataDir }, token);
      return server;
    };
    const stop = async () => {
      const stopped = await server!.stop();
      server = undefined;
      if (stopped.code !== 0)
        throw new Error(`signoff serve exited with ${stopped.code ?? stopped.signal} on SIGTERM`);
      return stopped.stopMs;
    };
    try {
      progress('first start on two empty data directories (each creates its database)');
      const firstStartPeakMiB: number[] = [];
      for (const dataDir of [emptyDir, loadedDir]) {
        await start(dataDir);
        firstStartPeakMiB.push(server!.memory().peakMiB);
        await stop();
      }

      progress(`creating ${waitingRuns} waiting runs over HTTP`);
      await start(loadedDir);
      await server!.call('POST', '/api/workflows', approvalThenShell('bench-waiting'), 201);
      const createStart = performance.now();
      await inParallel(
        Array.from({ length: waitingRuns }, (_, i) => i),
        8,
        async () => {
          const run = await server!.call('POST', '/api/workflows/bench-waiting/runs', {}, 201);
          if (run.status !== 'waiting_for_approval')
            throw new Error(`run ${run.id} is ${run.status}, not waiting`);
        },
      );
      const createSeconds = (performance.now() - createStart) / 1000;
      const afterCreate = server!.memory();
      const stopLoadedMs = [await stop()];

      type Sample = { readyMs: number; readyCpuMs: number; rssMiB: number };
      const empty: Sample[] = [];
      const loaded: Sample[] = [];
      let afterList = { rssMiB: Number.NaN, peakMiB: Number.NaN };
      for (let round = 1; round <= restarts; round++) {
        progress(
          `restart ${round} of ${restarts}: empty data directory, then the one with ${waitingRuns} waiting runs`,
        );
        const idle = await start(emptyDir);
        empty.push({ readyMs: idle.readyMs, readyCpuMs: idle.readyCpuMs, rssMiB: idle.memory().rssMiB });
        await stop();

        const busy = await start(loadedDir);
        loaded.push({ readyMs: busy.readyMs, readyCpuMs: busy.readyCpuMs, rssMiB: busy.memory().rssMiB });
        if (round === restarts) {
          const { approvals } = await busy.call('GET', '/api/approvals');
          if (approvals.length !== waitingRuns) {
            throw new Error(
              `after restart ${approvals.length} approvals are pending, expected ${waitingRuns}`,
            );
          }
          afterList = busy.memory();
        }
        stopLoadedMs.push(await stop());
      }

      const emptyReady = median(empty.map((sample) => sample.readyMs)) / 1000;
      const loadedReady = median(loaded.map((sample) => sample.readyMs)) / 1000;
      const emptyRss = median(empty.map((sample) => sample.rssMiB));
      const loadedRss = median(loaded.map((sample) => sample.rssMiB));
      const figures: Figure[] = [
        {
          name: `RSS with ${waitingRuns} waiting runs, after creating them`,
          value: afterCreate.rssMiB,
          unit: 'MiB',
          goal: { op: '<', value: 300 },
        },
        { name: 'peak RSS (VmHWM) of that process, from its start', value: afterCreate.peakMiB, unit: 'MiB' },
        {
          name: `RSS after restart with ${waitingRuns} waiting, at ready (median)`,
          value: loadedRss,
          unit: 'MiB',
          goal: { op: '<', value: 300 },
        },
        {
          name: `RSS after restart + GET /api/approvals (${waitingRuns})`,
          value: afterList.rssMiB,
          unit: 'MiB',
          goal: { op: '<', value: 300 },
        },
        { name: 'baseline: RSS at ready, 0 runs (median)', value: emptyRss, unit: 'MiB' },
        {
          name: `start → ready with ${waitingRuns} waiting (median of ${restarts})`,
          value: loadedReady,
          unit: 's',
          digits: 2,
          goal: { op: '<', value: 3 },
        },
        {
          name: `start → ready with ${waitingRuns} waiting (worst of ${restarts})`,
          value: Math.max(...loaded.map((sample) => sample.readyMs)) / 1000,
          unit: 's',
          digits: 2,
        },
        {
          name: `baseline: start → ready, 0 runs (median of ${restarts})`,
          value: emptyReady,
          unit: 's',
          digits: 2,
        },
        { name: 'start → ready: loaded / baseline', value: loadedReady / emptyReady, unit: '×', digits: 2 },
        {
          name: `CPU used by the server until ready, ${waitingRuns} waiting (median)`,
          value: median(loaded.map((sample) => sample.readyCpuMs)) / 1000,
          unit: 's',
          digits: 2,
        },
        {
          name: 'baseline: CPU used until ready, 0 runs (median)',
          value: median(empty.map((sample) => sample.readyCpuMs)) / 1000,
          unit: 's',
          digits: 2,
        },
        {
          name: `creating ${waitingRuns} runs over HTTP (8 in flight)`,
          value: waitingRuns / createSeconds,
          unit: 'runs/s',
        },
        {
          name: 'peak RSS of a first start (creates the database)',
          value: Math.max(...firstStartPeakMiB),
          unit: 'MiB',
        },
        {
          name: `SIGTERM → exit with ${waitingRuns} waiting (median)`,
          value: median(stopLoadedMs) / 1000,
          unit: 's',
          digits: 2,
        },
      ];
      return figures;
    } finally {
      if (server) await server.stop(5_000).catch(() => {});
      rmSync(emptyDir, { recursive: true, force: true });
      rmSync(loadedDir, { recursive: true, force: true });
    }
  },
};
