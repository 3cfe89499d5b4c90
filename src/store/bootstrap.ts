// The first admin: created at first start with a token shown once, or with the token the operator chose.
import type { Db } from './db.js';
import { countAdmins, createUser, findUser, hasToken, issueToken } from './users.js';

export interface Bootstrap {
  /** Set only when a token was generated now: the caller shows it once. */
  generatedToken?: string;
}

export async function bootstrapAdmin(db: Db, adminToken: string | undefined): Promise<Bootstrap> {
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(726351002)');
    if (adminToken) {
      let admin = await findUser(tx, 'admin');
      admin ??= await createUser(tx, { name: 'admin', is_admin: true });
      if (!(await hasToken(tx, adminToken)))
        await issueToken(tx, admin.id, 'SIGNOFF_ADMIN_TOKEN', adminToken);
      return {};
    }
    if ((await countAdmins(tx)) > 0) return {};
    const admin = (await findUser(tx, 'admin')) ?? (await createUser(tx, { name: 'admin', is_admin: true }));
    const { token } = await issueToken(tx, admin.id, 'first start');
    return { generatedToken: token };
  });
}
