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
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      signoff.close().then(resolve, (error) => {
        log.error({ err: error }, 'stop failed');
        resolve();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
