// Mounts the fakes at /sandbox/<vendor>, registers one IM app per fake, and connects the fakes' callbacks
// to those apps' callback URLs, so `npm start` shows the whole flow with no vendor account.
import type { Hono } from 'hono';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { withDefaultHosts } from '../providers/im-app-fields.js';
import type { Db } from '../store/db.js';
import { deleteImApp, findImApp, insertImApp, updateImApp, workflowsUsingApp } from '../store/im-apps.js';
import type { SecretBox } from '../store/secret-box.js';
import { sandboxPage } from './page.js';
import type { SandboxVendor } from './vendors.js';

export interface SandboxDeps {
  db: Db;
  secretBox: SecretBox;
  publicUrl: string;
  log: Logger;
}

export const sandboxAppId = (type: string) => `ima_sandbox_${type}`;

/** The sandbox's HTTP surface: the fakes and the page. */
// biome-ignore lint/suspicious/noExplicitAny: mounts on the API app and on the standalone one alike.
export function mountSandbox(app: Hono<any>, vendors: SandboxVendor[]): void {
  for (const vendor of vendors) app.route(`/sandbox/${vendor.type}`, vendor.app);
  app.get('/sandbox', (c) => c.html(sandboxPage(vendors, c.req.query('notice'))));
  app.get('/sandbox/state', (c) => {
    // The fakes answer on whatever origin the browser reached this server at.
    const origin = new URL(c.req.url).origin;
    return c.json({
      vendors: vendors.map((vendor) => {
        const apiBase = `${origin}/sandbox/${vendor.type}`;
        return {
          type: vendor.type,
          label: vendor.label,
          im_app: { id: sandboxAppId(vendor.type), name: vendor.imApp.name },
          people: vendor.people(),
          chats: vendor.chats(),
          pending_approvals: vendor.pendingApprovals(),
          messages: vendor.messages(),
          // What the fake vendor's own developer console would show: its demo app's credentials and its
          // group robots' webhooks, so a newcomer can rehearse "Add IM app" or a robot notification by
          // copying them, as from the real console. They are made-up values that only the fake accepts
          // (the sandbox is a demo mode, off in production with SIGNOFF_SANDBOX=false); the credentials of
          // apps registered through the API are never shown.
          developer_console: {
            api_base: apiBase,
            credentials: { ...vendor.imApp.settings, ...vendor.imApp.secrets },
            robots: vendor.robots().map(({ path, ...robot }) => ({ url: apiBase + path, ...robot })),
          },
        };
      }),
    });
  });
  // For a standalone sandbox (`signoff sandbox`): point a fake's callbacks at a Signoff server, as an
  // operator does in the vendor console.
  app.post('/sandbox/connect', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { vendor?: string; url?: string };
    const vendor = vendors.find((candidate) => candidate.type === body.vendor);
    if (!vendor || typeof body.url !== 'string' || !/^https?:\/\//.test(body.url)) {
      throw new AppError(
        'bad_request',
        'Send {"vendor": "feishu|lark|dingtalk|wecom", "url": "<the IM app\'s callback_url>"}.',
      );
    }
    const ok = await vendor.connect(body.url);
    if (!ok)
      throw new AppError(
        'bad_request',
        `${vendor.label} could not verify ${body.url}: check the app's credentials and that the URL is its callback_url.`,
      );
    return c.json({ ok: true });
  });
  app.post('/sandbox/decide', async (c) => {
    const form = await c.req.parseBody();
    const vendor = vendors.find((candidate) => candidate.type === form.vendor);
    const decision = form.decision === 'approve' || form.decision === 'reject' ? form.decision : undefined;
    if (!vendor || !decision || typeof form.approval !== 'string' || typeof form.person !== 'string') {
      throw new AppError('bad_request', 'Send vendor, approval, person and decision (approve or reject).');
    }
    const comment = typeof form.comment === 'string' && form.comment ? form.comment : undefined;
    await vendor.decide(form.approval, form.person, decision, comment);
    const name = vendor.people().find((person) => person.id === form.person)?.name ?? form.person;
    const notice = `${name} ${decision === 'approve' ? 'approved' : 'rejected'} ${form.approval} in ${vendor.label}.`;
    if ((c.req.header('accept') ?? '').includes('application/json')) return c.json({ ok: true, notice });
    return c.redirect(`/sandbox?notice=${encodeURIComponent(notice)}`, 303);
  });
}

/** With the sandbox off, its apps would point at fakes that are not there: remove the unused ones. */
export async function removeSandboxApps(db: Db): Promise<void> {
  const apps = await db.query<{ id: string; name: string }>('select id, name from im_apps where sandbox');
  for (const app of apps) {
    if ((await workflowsUsingApp(db, app)).length === 0) await deleteImApp(db, app.id);
  }
}

/**
 * Registers (or refreshes) the sandbox IM apps pointing at the mounted fakes, then has each fake do what
 * an operator does in the vendor console: save our callback URL (which verifies it).
 */
export async function registerSandboxApps(vendors: SandboxVendor[], deps: SandboxDeps): Promise<void> {
  for (const vendor of vendors) {
    const id = sandboxAppId(vendor.type);
    const base = `${deps.publicUrl}/sandbox/${vendor.type}`;
    const settings = {
      ...withDefaultHosts(vendor.type, vendor.imApp.settings),
      api_base: base,
      ...(vendor.type === 'dingtalk' ? { oapi_base: base } : {}),
    };
    const input = {
      name: vendor.imApp.name,
      event_mode: vendor.imApp.event_mode,
      settings,
      secrets: vendor.imApp.secrets,
    };
    if (await findImApp(deps.db, id)) await updateImApp(deps.db, deps.secretBox, id, input);
    else await insertImApp(deps.db, deps.secretBox, { type: vendor.type, sandbox: true, ...input }, id);
  }
  for (const vendor of vendors) {
    const url = `${deps.publicUrl}/callbacks/${vendor.type}/${sandboxAppId(vendor.type)}`;
    await vendor
      .connect(url)
      .catch((error) => deps.log.warn({ err: error, vendor: vendor.type }, 'sandbox callback setup failed'));
  }
}
