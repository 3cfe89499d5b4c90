// Decrypted IM app configs, kept a few seconds for the callback hot path (no database read, no decryption
// per callback). Edits through the API drop the entry at once; another instance sees them within the TTL.
import type { ImAppConfig } from '../providers/types.js';
import type { Queryable } from './db.js';
import { findImAppById, type ImAppRecord, imAppConfig } from './im-apps.js';
import type { SecretBox } from './secret-box.js';

export interface ResolvedImApp {
  record: ImAppRecord;
  config: ImAppConfig;
}

export class ImAppConfigs {
  private readonly entries = new Map<string, { value: ResolvedImApp | undefined; until: number }>();

  constructor(
    private readonly db: Queryable,
    private readonly secretBox: SecretBox,
    private readonly ttlMs = 2000,
  ) {}

  async get(id: string): Promise<ResolvedImApp | undefined> {
    const hit = this.entries.get(id);
    if (hit && hit.until > Date.now()) return hit.value;
    const record = await findImAppById(this.db, id);
    const value = record ? { record, config: imAppConfig(this.secretBox, record) } : undefined;
    // Unknown ids are not remembered: a flood of them must not grow this map.
    if (value) this.entries.set(id, { value, until: Date.now() + this.ttlMs });
    else this.entries.delete(id);
    return value;
  }

  forget(id: string): void {
    this.entries.delete(id);
  }
}
