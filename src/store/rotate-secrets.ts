// Key rotation: every value sealed with the secret box, opened with the old master key and sealed again
// with the new one, in one transaction (all or nothing); cached vendor tokens are simply dropped. A value that already opens with the new key is
// left alone, so an interrupted or repeated rotation can simply be run again.
import { AppError } from '../errors.js';
import type { Db } from './db.js';
import { imAppSecretsBoundTo } from './im-apps.js';
import type { SecretBox } from './secret-box.js';

/** Every sealed column: where it is, and what each value is bound to (the AAD it was sealed with). */
export const sealedColumns = [
  {
    what: 'IM app secrets',
    table: 'im_apps',
    column: 'secrets',
    select: 'select id::text as id, secrets as sealed, id as bound from im_apps order by id for update',
    update: 'update im_apps set secrets = $2 where id = $1',
    boundTo: imAppSecretsBoundTo,
  },
  {
    what: 'notification destinations (webhook URLs, robot secrets)',
    table: 'notifications',
    column: 'sealed',
    select:
      'select id::text as id, sealed, dedup_key as bound from notifications where sealed is not null order by id for update',
    update: 'update notifications set sealed = $2 where id = $1::integer',
    boundTo: (dedupKey: string) => dedupKey,
  },
] as const;

export interface RotationCount {
  what: string;
  table: string;
  /** Re-sealed with the new key now. */
  rotated: number;
  /** Already under the new key (an earlier run of the rotation). */
  alreadyNew: number;
}

export interface RotationProgress {
  what: string;
  done: number;
  total: number;
}

/**
 * Re-seals every sealed value from `from` to `to`. Throws (changing nothing) when a value opens with
 * neither key: it was sealed with a third key, or it is damaged.
 */
export async function rotateSecrets(
  db: Db,
  from: SecretBox,
  to: SecretBox,
  onProgress: (progress: RotationProgress) => void = () => {},
): Promise<RotationCount[]> {
  return db.transaction(async (tx) => {
    const counts: RotationCount[] = [];
    for (const sealed of sealedColumns) {
      const rows = await tx.query<{ id: string; sealed: string; bound: string }>(sealed.select);
      const count: RotationCount = { what: sealed.what, table: sealed.table, rotated: 0, alreadyNew: 0 };
      onProgress({ what: sealed.what, done: 0, total: rows.length });
      for (const [index, row] of rows.entries()) {
        const boundTo = sealed.boundTo(row.bound);
        if (opens(to, row.sealed, boundTo)) count.alreadyNew += 1;
        else {
          let plaintext: string;
          try {
            plaintext = from.open(row.sealed, boundTo);
          } catch {
            throw new AppError(
              'conflict',
              `${sealed.table}.${sealed.column} of row ${row.id} opens with neither the old key nor the new one; nothing was changed.`,
            );
          }
          await tx.query(sealed.update, [row.id, to.seal(plaintext, boundTo)]);
          count.rotated += 1;
        }
        const done = index + 1;
        if (done % 500 === 0 || done === rows.length)
          onProgress({ what: sealed.what, done, total: rows.length });
      }
      counts.push(count);
    }
    // Cached vendor access tokens are sealed too, but disposable: dropped rather than re-sealed, every
    // instance asks the vendor for a new one at its next call.
    await tx.query('delete from vendor_tokens');
    return counts;
  });
}

function opens(box: SecretBox, sealed: string, boundTo: string): boolean {
  try {
    box.open(sealed, boundTo);
    return true;
  } catch {
    return false;
  }
}
