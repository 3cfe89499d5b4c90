// People named in a rule (id, email or mobile) as the vendor's ids, through the app's address book.
import type { ImAppClient } from '../../engine/approval-apps.js';
import { AppError } from '../../errors.js';

export interface Person {
  id?: string | undefined;
  email?: string | undefined;
  mobile?: string | undefined;
}

/** What each console calls the people an app may see. */
const visibleRange: Record<string, string> = {
  feishu: '可用范围 / 通讯录权限范围',
  lark: 'availability / contacts permission scope',
  dingtalk: '通讯录权限范围',
  wecom: '可见范围',
};

/** A webhook URL from a rule: an empty or malformed one (often a SIGNOFF_SECRET_… not set) is no retry. */
export function webhookUrl(url: string | undefined, channel: string): URL {
  try {
    const parsed = new URL(url ?? '');
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return parsed;
  } catch {
    // reported below
  }
  throw new AppError(
    'bad_request',
    `The ${channel} rule's url is ${url ? 'not an http(s) URL' : 'empty'}. If it comes from ` +
      '`{{ secrets.<name> }}`, set SIGNOFF_SECRET_<NAME> on the server and restart.',
  );
}

export function describePerson(person: Person): string {
  return person.id ?? person.email ?? person.mobile ?? '(nobody)';
}

/** The vendor id of each person; anyone the address book does not know fails the send, by name. */
export async function vendorIds(app: ImAppClient, people: readonly Person[]): Promise<string[]> {
  const ids: string[] = [];
  const missing: string[] = [];
  for (const person of people) {
    if (person.id) {
      ids.push(person.id);
      continue;
    }
    const query = person.email ? { email: person.email } : { mobile: person.mobile ?? '' };
    const [user] = await app.client.findUsers(query);
    if (user) ids.push(user.id);
    else missing.push(describePerson(person));
  }
  if (missing.length > 0)
    throw new AppError(
      'upstream_rejected',
      `${app.label} app “${app.app.name}” does not know ${missing.join(', ')}: check the address, or ` +
        `that the person is inside the app's visible range (${visibleRange[app.app.type] ?? 'visible range'}).`,
    );
  return [...new Set(ids)];
}

/** The IM app a rule names, of the platform its channel is for. */
export async function appFor(
  apps: { client(handle: string): Promise<ImAppClient | undefined> },
  handle: string | undefined,
  type: string,
): Promise<ImAppClient> {
  const app = handle ? await apps.client(handle) : undefined;
  if (!app)
    throw new AppError(
      'upstream_rejected',
      `There is no IM app “${handle ?? ''}”; register it under Settings → Integrations → IM, or fix the rule's \`app\`.`,
    );
  if (app.app.type !== type)
    throw new AppError(
      'upstream_rejected',
      `IM app “${app.app.name}” is a ${app.label} app; this channel needs a ${type} app.`,
    );
  return app;
}
