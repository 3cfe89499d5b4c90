// `signoff rotate-key`: re-encrypts every stored secret under a new master key. It works on the database
// directly, like `serve` (same configuration: SIGNOFF_DATA_DIR, DATABASE_URL, SIGNOFF_SECRET_KEY), with
// the servers stopped. Loaded only when it runs (see commands/index.ts).
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readConfig } from '../../config.js';
import { type DataDirLock, lockDataDir } from '../../store/data-dir-lock.js';
import { type Db, openDb } from '../../store/db.js';
import { pendingMigrations } from '../../store/migrate.js';
import { rotateSecrets } from '../../store/rotate-secrets.js';
import {
  createSecretBox,
  findMasterKey,
  generateKey,
  keyFilePath,
  parseKey,
} from '../../store/secret-box.js';

export const rotateKeyUsage = 'rotate-key (--new-key <hex|base64> | --generate) [--force]';

const help = `Re-encrypts every stored secret (IM app secrets, notification webhook URLs and robot secrets)
from the key in use (SIGNOFF_SECRET_KEY, or secret.key in SIGNOFF_DATA_DIR) to a new one, in one
transaction. Stop every Signoff server on the database first.

Options:
  --new-key <key>   the new key: 64 hex characters, or the base64 of 32 bytes
  --generate        make a new random key and print it (once)
  --force           run even though servers seem to be running on the database (PostgreSQL)

When the key in use came from secret.key, the new key replaces it there. When it came from
SIGNOFF_SECRET_KEY, start every instance with the new key afterwards. Safe to run again: values
already under the new key are left alone (finish an interrupted rotation with the same --new-key).`;

export interface RotateKeyIo {
  /** What the operator must keep (the new key): stdout. */
  print(line: string): void;
  /** Progress and notes: stderr. */
  note(line: string): void;
}

const processIo: RotateKeyIo = {
  print: (line) => process.stdout.write(`${line}\n`),
  note: (line) => process.stderr.write(`${line}\n`),
};

/** Servers that beat within this long are taken to be running (they beat every 5 s). */
const liveWithinSeconds = 20;

export async function rotateKey(
  args: string[],
  env: Record<string, string | undefined>,
  io: RotateKeyIo = processIo,
): Promise<number> {
  let values: {
    'new-key'?: string | undefined;
    generate?: boolean | undefined;
    force?: boolean | undefined;
    help?: boolean | undefined;
  };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        'new-key': { type: 'string' },
        generate: { type: 'boolean' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
    if (values.help) {
      io.print(`Usage: signoff ${rotateKeyUsage}\n\n${help}`);
      return 0;
    }
    if ((values['new-key'] === undefined) === !values.generate)
      throw new Error('give the new key with --new-key <key>, or --generate one (exactly one of them)');
  } catch (error) {
    io.note(`signoff rotate-key: ${(error as Error).message}`);
    io.note(`Usage: signoff ${rotateKeyUsage}   (signoff rotate-key --help for more)`);
    return 2;
  }

  const config = readConfig(env);
  const current = findMasterKey(config.secretKey, config.dataDir);
  if (!current)
    throw new Error(
      `there is no key to rotate from: SIGNOFF_SECRET_KEY is not set and ${keyFilePath(config.dataDir)} does not exist`,
    );
  const pendingPath = `${keyFilePath(config.dataDir)}.new`;
  if (current.source === 'file' && existsSync(pendingPath)) {
    const pending = readFileSync(pendingPath, 'utf8').trim();
    if (
      values['new-key'] === undefined ||
      !parseKey(values['new-key'], '--new-key').equals(parseKey(pending, pendingPath))
    )
      throw new Error(
        `${pendingPath} is left from a rotation that did not finish; finish it with: signoff rotate-key --new-key "$(cat ${pendingPath})"`,
      );
  }
  const newKeyText = values['new-key'] ?? generateKey();
  const newKey = parseKey(newKeyText, '--new-key');
  const from = current.source === 'env' ? 'SIGNOFF_SECRET_KEY' : current.path!;

  const embedded = !config.databaseUrl;
  if (embedded && !existsSync(join(config.dataDir, 'pg')))
    throw new Error(`there is no database in ${config.dataDir} (SIGNOFF_DATA_DIR); nothing to rotate`);
  // On PGlite the lock also proves that no server is running.
  const lock: DataDirLock | undefined = embedded ? lockDataDir(config.dataDir) : undefined;
  let db: Db | undefined;
  const leftBefore = existsSync(pendingPath);
  let wrotePending = false;
  let committed = false;
  try {
    db = await openDb({ url: config.databaseUrl ?? join(config.dataDir, 'pg') });
    const pending = await pendingMigrations(db);
    if (pending.length > 0)
      throw new Error(
        `the database is not up to date (migrations not applied: ${pending.join(', ')}); start this version of Signoff once, stop it, then rotate`,
      );
    if (!embedded && !values.force) {
      const [live] = await db.query<{ count: string }>(
        `select count(*) as count from instances where heartbeat_at > now() - make_interval(secs => $1)`,
        [liveWithinSeconds],
      );
      if (Number(live?.count ?? 0) > 0)
        throw new Error(
          `${live!.count} Signoff server(s) ran on this database within the last ${liveWithinSeconds} s; stop them first (a running server keeps sealing with the old key), or pass --force and run this again after they restarted with the new key`,
        );
    }

    io.note(`Rotating the master key (the key in use is from ${from}).`);
    if (values.generate) {
      // Shown before the transaction: once it commits, the secrets open with nothing else.
      io.print(`New key (shown only this once; keep it): ${newKeyText}`);
    }
    // Written before the transaction, so that a crash after its commit cannot lose the new key.
    if (current.source === 'file') {
      writeFileSync(pendingPath, `${newKeyText}\n`, { mode: 0o600 });
      wrotePending = true;
    }

    const counts = await rotateSecrets(
      db,
      createSecretBox(current.key),
      createSecretBox(newKey),
      (progress) => {
        if (progress.done > 0) io.note(`  ${progress.what}: ${progress.done} of ${progress.total}`);
      },
    );
    committed = true;
    for (const count of counts)
      io.note(`${count.what}: ${count.rotated} re-encrypted, ${count.alreadyNew} already under the new key`);
    if (current.source === 'file') {
      renameSync(pendingPath, current.path!);
      io.note(`Done. The new key is in ${current.path}; start Signoff as before.`);
    } else {
      io.note('Done. Start every instance with SIGNOFF_SECRET_KEY set to the new key.');
    }
    return 0;
  } catch (error) {
    // Nothing was committed: the new key file is not needed (unless an earlier run left it).
    if (wrotePending && !committed && !leftBefore) rmSync(pendingPath, { force: true });
    throw error;
  } finally {
    await db?.close().catch(() => {});
    lock?.release();
  }
}
