// The engine's way to a registered IM app's approval API: by name or id, with the app's cached client (so
// tokens and rate limits are shared with everything else that talks to that app).
import type { VendorApprovals } from '../providers/approvals.js';
import type { ImClients } from '../providers/clients.js';
import { providerFor } from '../providers/registry.js';
import type { ImClient } from '../providers/types.js';
import type { Queryable } from '../store/db.js';
import type { ImAppConfigs } from '../store/im-app-configs.js';
import { findImApp, type ImAppRecord } from '../store/im-apps.js';

export interface ApprovalApp {
  app: ImAppRecord;
  /** The platform's name for people: Feishu, Lark, DingTalk, WeCom. */
  label: string;
  api: VendorApprovals;
}

export interface ApprovalApps {
  open(handle: string): Promise<ApprovalApp | undefined>;
}

export function approvalApps(deps: {
  db: Queryable;
  configs: ImAppConfigs;
  clients: ImClients;
}): ApprovalApps {
  // One adapter per client, so what an adapter caches (user names) lives as long as the client.
  const adapters = new WeakMap<ImClient, VendorApprovals>();
  return {
    async open(handle) {
      // By id (events, polls: the hot path) straight from the cached configs; by name once per job.
      let resolved = handle.startsWith('ima_') ? await deps.configs.get(handle) : undefined;
      if (!resolved) {
        const found = await findImApp(deps.db, handle);
        resolved = found ? await deps.configs.get(found.id) : undefined;
      }
      if (!resolved) return undefined;
      const provider = providerFor(resolved.record.type);
      const client = deps.clients.for(resolved.record, resolved.config);
      let api = adapters.get(client);
      if (!api) {
        api = provider.approvals(client, resolved.config);
        adapters.set(client, api);
      }
      return { app: resolved.record, label: provider.label, api };
    },
  };
}
