import { readConfig } from '../../config.js';
import { createLogger } from '../../log.js';
import { startSignoff } from '../../server.js';

/** `signoff serve`: loaded only when it runs (see commands/index.ts). */
export async function serve(_args: string[], env: Record<string, string | undefined>): Promise<number> {
  const config = readConfig(env);
  const log = createLogger({ level: config.logLevel });
  const signoff = await startSignoff({
    config,
    log,
    onAdminToken: (token) => {
      // Shown once, on the terminal only (never through the logger): only its hash is stored.
      process.stderr.write(
        [
          '',
          '  First start: an admin API token was created. It is shown only this once:',
          '',
          `    ${token}`,
          '',
          `  Use it with the CLI:  export SIGNOFF_TOKEN=${token}`,
          `  Open the console:     ${config.publicUrl}/#token=${token}`,
          '',
        ].join('\n'),
      );
    },
  });
  const database = config.databaseUrl ? 'PostgreSQL' : `embedded database in ${config.dataDir}`;
  log.info(
    { address: signoff.url, public: config.publicUrl },
    `Signoff is ready on ${signoff.url} (${database}); console at ${config.publicUrl}`,
  );
  const stoppedCleanly = await new Promise<boolean>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        // A second Ctrl-C (or SIGTERM) means now: what is cut off is recovered at the next start.
        log.warn({ signal }, 'stopping at once');
        process.exit(1);
      }
      stopping = true;
      const graceMs = Math.max(1000, config.shutdownTimeoutMs - 5000);
      log.info(
        { signal, grace_ms: graceMs },
        'stopping: taking no new work, letting what is in flight finish (send the signal again to stop at once)',
      );
      // The bound on the whole stop (SIGNOFF_SHUTDOWN_TIMEOUT): whatever hangs, the process goes.
      const force = setTimeout(() => {
        log.error({ timeout_ms: config.shutdownTimeoutMs }, 'did not stop in time; exiting anyway');
        process.exit(1);
      }, config.shutdownTimeoutMs);
      force.unref();
      signoff.close({ graceMs }).then(
        () => {
          log.info('stopped');
          resolve(true);
        },
        (error) => {
          log.error({ err: error }, 'stop failed');
          resolve(false);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  // Everything is closed; a handle a library left open (a socket, a timer) must not keep the process.
  const code = stoppedCleanly ? 0 : 1;
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}
