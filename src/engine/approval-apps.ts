// The engine's way to a registered IM app: its approval API or its client (for messages), by name or id,
// with the app's cached client (so tokens and rate limits are shared with everything that talks to it).
import type { VendorApprovals } from '../providers/approvals.js';
import type { ImClients } from '../providers/clients.js';
import { providerFor } from '../providers/registry.js';
import type { ImAppConfig, ImClient } from '../providers/types.js';
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

export interface ImAppClient {
  app: ImAppRecord;
  label: string;
  config: ImAppConfig;
  client: ImClient;
}

/** IM apps as notification channels see them: the client, to send messages and look people up. */
export interface ImApps {
  client(handle: string): Promise<ImAppClient | undefined>;
}

export function approvalApps(deps: {
  db: Queryable;
  configs: ImAppConfigs;
  clients: ImClients;
}): ApprovalApps & ImApps {
  // One adapter per client, so what an adapter caches (user names) lives as long as the client.
  const adapters = new WeakMap<ImClient, VendorApprovals>();
  const client = async (handle: string): Promise<ImAppClient | undefined> => {
    // By id (events, polls: the hot path) straight from the cached configs; by name once per job.
    let resolved = handle.startsWith('ima_') ? await deps.configs.get(handle) : undefined;
    if (!resolved) {
      const found = await findImApp(deps.db, handle);
      resolved = found ? await deps.configs.get(found.id) : undefined;
    }
    if (!resolved) return undefined;
    const provider = providerFor(resolved.record.type);
    return {
      app: resolved.record,
      label: provider.label,
      config: resolved.config,
      client: deps.clients.for(resolved.record, resolved.config),
    };
  };
  return {
    client,
    async open(handle) {
      const resolved = await client(handle);
      if (!resolved) return undefined;
      const provider = providerFor(resolved.app.type);
      const imClient = resolved.client;
      let api = adapters.get(imClient);
      if (!api) {
        api = provider.approvals(imClient, resolved.config);
        adapters.set(imClient, api);
      }
      return { app: resolved.app, label: provider.label, api };
    },
  };
}
