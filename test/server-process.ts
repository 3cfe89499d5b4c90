// Starts `signoff serve` as a real child process (the way a user runs it) and talks to it over HTTP.
import { type ChildProcess, spawn } from 'node:child_process';
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
