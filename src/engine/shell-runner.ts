// Runs one shell script as its own process group, so a timeout or a cancel can stop everything it started.
import { spawn } from 'node:child_process';

export interface ShellOptions {
  script: string;
  shell: 'sh' | 'bash';
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  onOutput: (stream: 'stdout' | 'stderr', text: string) => void;
}

export interface ShellResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  cancelled: boolean;
  /** Set when the process could not start at all (e.g. bash missing). */
  spawnError?: string;
}

export interface ShellProcess {
  done: Promise<ShellResult>;
  cancel(): void;
}

const killGraceMs = 5000;

export function runShell(options: ShellOptions): ShellProcess {
  // -e: stop at the first failing command, as CI systems do; the script's exit code decides the job.
  const child = spawn(options.shell, ['-e', '-c', options.script], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let timedOut = false;
  let cancelled = false;
  let spawnError: string | undefined;

  const stop = () => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(child.pid, 'SIGTERM');
    setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), killGraceMs).unref();
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, options.timeoutMs);
  timer.unref();

  child.stdout.setEncoding('utf8').on('data', (text: string) => options.onOutput('stdout', text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => options.onOutput('stderr', text));

  const done = new Promise<ShellResult>((resolve) => {
    child.on('error', (error) => {
      spawnError = error.message;
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, timedOut, cancelled, ...(spawnError ? { spawnError } : {}) });
    });
  });

  return {
    done,
    cancel: () => {
      cancelled = true;
      stop();
    },
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
