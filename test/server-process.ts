// Starts `signoff serve` as a real child process (the way a user runs it) and talks to it over HTTP.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs the CLI from source; resolves when the server says it is ready, rejects if it exits first. */
export function startServerProcess(env: Record<string, string>, token: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Signoff is ready on (http:\/\/[^\s"]+)/.exec(output);
      if (match) {
        child.stdout?.off('data', onData);
        child.stdout?.on('data', (more: Buffer) => (output += more.toString()));
        const url = match[1]!;
        resolve({
          child,
          url,
          output: () => output,
          async call(method, path, body) {
            const response = await fetch(`${url}${path}`, {
              method,
              headers: {
                authorization: `Bearer ${token}`,
                ...(typeof body === 'string'
                  ? { 'content-type': 'application/yaml' }
                  : { 'content-type': 'application/json' }),
              },
              ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
            });
            const text = await response.text();
            return { status: response.status, body: text ? JSON.parse(text) : undefined };
          },
          kill(signal = 'SIGTERM') {
            child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) =>
      reject(new Error(`server exited with ${code} before it was ready:\n${output}`)),
    );
  });
}

/**
 * `signoff serve` on a fresh data directory (PGlite), for tests that kill it and start it again on the same
 * data. Calls go to the process started last. Each test may leave it killed: `startIfStopped` in afterEach
 * brings one up for the next, and `stop` in afterAll stops it and removes the directory.
 */
export class RestartableServer {
  readonly dataDir: string;
  readonly #env: Record<string, string>;
  readonly #token: string;
  #current: ServerProcess | undefined;

  /** `token` is the admin token the server is started with and calls are made with. */
  constructor(dataDirPrefix: string, token: string, env: Record<string, string> = {}) {
    this.dataDir = mkdtempSync(join(tmpdir(), dataDirPrefix));
    this.#token = token;
    this.#env = { SIGNOFF_DATA_DIR: this.dataDir, SIGNOFF_ADMIN_TOKEN: token, ...env };
  }

  /** A new process on the same data; the one before must be gone. */
  async start(): Promise<ServerProcess> {
    this.#current = await startServerProcess(this.#env, this.#token);
    return this.#current;
  }

  async startIfStopped(): Promise<void> {
    const child = this.#current?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) await this.start();
  }

  async stop(): Promise<void> {
    await this.#current?.kill('SIGTERM');
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  get url(): string {
    return this.#process().url;
  }

  output(): string {
    return this.#process().output();
  }

  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    return this.#process().call(method, path, body);
  }

  kill(signal?: NodeJS.Signals): Promise<number | null> {
    return this.#process().kill(signal);
  }

  #process(): ServerProcess {
    if (!this.#current) throw new Error('the server was never started');
    return this.#current;
  }
}
