// `signoff serve` as a real child process (from source, like test/server-process.ts), timed from spawn to
// its "ready" log line, with its resident memory read from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface SignoffProcess {
  child: ChildProcess;
  url: string;
  /** Spawn → "Signoff is ready on …" seen on stdout. */
  readyMs: number;
  /** CPU time (user + system, all threads) the server had used when its ready line was seen. */
  readyCpuMs: number;
  call(method: string, path: string, body?: unknown, expect?: number): Promise<any>;
  /** Resident and peak resident memory in MiB (VmRSS, VmHWM). */
  memory(): { rssMiB: number; peakMiB: number };
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`); resolves with how long it took. */
  stop(graceMs?: number): Promise<{ stopMs: number; code: number | null; signal: NodeJS.Signals | null }>;
}

export function startSignoffProcess(
  env: Record<string, string>,
  token: string,
  readyTimeoutMs = 60_000,
): Promise<SignoffProcess> {
  const started = performance.now();
  // The compiled server, as `npm start` runs it (`npm run bench` builds first).
  const child = spawn(process.execPath, ['bin/signoff.js', 'serve'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      SIGNOFF_LOG_LEVEL: 'info',
      SIGNOFF_ADMIN_TOKEN: token,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // Keep draining the pipes: a full pipe would block the server's (synchronous) log writes.
  // (Only the first megabyte is kept, for error messages.)
  const keep = (chunk: Buffer) => {
    if (output.length < 1_000_000) output += chunk.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`signoff serve was not ready within ${readyTimeoutMs} ms:\n${output}`));
    }, readyTimeoutMs);
    const onData = () => {
      const match = /Signoff is ready on (http:\/\/[^\s"]+)/.exec(output);
      if (!match) return;
      const readyMs = performance.now() - started;
      const readyCpuMs = cpuMsOf(child.pid!);
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      const url = match[1]!;
      resolve({
        child,
        url,
        readyMs,
        readyCpuMs,
        async call(method, path, body, expect = 200) {
          const response = await fetch(`${url}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': typeof body === 'string' ? 'application/yaml' : 'application/json',
            },
            ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
          });
          const text = await response.text();
          if (response.status !== expect) {
            throw new Error(`${method} ${path} answered ${response.status} (expected ${expect}): ${text}`);
          }
          return text ? JSON.parse(text) : undefined;
        },
        memory() {
          const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
          const kib = (field: string) =>
            Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
          return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
        },
        async stop(graceMs = 15_000) {
          const stopStart = performance.now();
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          const result = await exited.finally(() => clearTimeout(killer));
          return { stopMs: performance.now() - stopStart, ...result };
        },
      });
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`signoff serve exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}

/** utime + stime from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
