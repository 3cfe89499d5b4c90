// The sandbox page: every fake person and every fake approval waiting, with buttons to act as them.
// Plain server-rendered HTML (the console has a richer version); every value is escaped.
import type { SandboxVendor } from './vendors.js';

const escapeHtml = (value: unknown): string =>
  String(value ?? '').replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

export function sandboxPage(vendors: SandboxVendor[], notice?: string): string {
  const sections = vendors.map((vendor) => {
    const approvals = vendor.pendingApprovals();
    const rows = approvals.flatMap((approval) =>
      approval.waiting_for.map(
        (person) => `<tr><td>${escapeHtml(approval.title)}<br><small>${escapeHtml(approval.id)}</small></td>
        <td>${escapeHtml(person.name)}</td>
        <td><form method="post" action="/sandbox/decide">
          <input type="hidden" name="vendor" value="${escapeHtml(vendor.type)}">
          <input type="hidden" name="approval" value="${escapeHtml(approval.id)}">
          <input type="hidden" name="person" value="${escapeHtml(person.id)}">
          <input name="comment" placeholder="comment (optional)" aria-label="comment">
          <button name="decision" value="approve">Approve as ${escapeHtml(person.name)}</button>
          <button name="decision" value="reject">Reject</button>
        </form></td></tr>`,
      ),
    );
    const people = vendor
      .people()
      .map(
        (person) =>
          `<li>${escapeHtml(person.name)} <small>${escapeHtml(person.email ?? person.mobile ?? person.id)}</small></li>`,
      )
      .join('');
    const messages = vendor
      .messages()
      .slice(-10)
      .reverse()
      .map(
        (message) =>
          `<li><small>${escapeHtml(message.at)} → ${escapeHtml(message.to)} (${escapeHtml(message.kind)})</small><pre>${escapeHtml(message.content)}</pre></li>`,
      )
      .join('');
    return `<section><h2>${escapeHtml(vendor.label)}</h2>
      <p>IM app <code>${escapeHtml(vendor.imApp.name)}</code>, API at <code>/sandbox/${escapeHtml(vendor.type)}</code></p>
      <h3>Approvals waiting (${approvals.length})</h3>
      ${rows.length ? `<table><tr><th>Approval</th><th>Waiting for</th><th></th></tr>${rows.join('')}</table>` : '<p>None yet: run a workflow with an approval on this app.</p>'}
      <h3>Messages received</h3>${messages ? `<ul>${messages}</ul>` : '<p>None yet.</p>'}
      <details><summary>People (${vendor.people().length})</summary><ul>${people}</ul></details></section>`;
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Signoff sandbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}pre{white-space:pre-wrap;background:#f6f6f6;padding:.4rem;margin:.2rem 0}
.notice{background:#eef;padding:.6rem}</style></head><body>
<h1>Signoff sandbox</h1>
<p>Fake Feishu, Lark, DingTalk and WeCom companies, each with an IM app already registered in Signoff. Act as any
fake person: approvals you decide here reach Signoff through the platform's real callback protocol.</p>
${notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>` : ''}
${sections.join('\n')}
</body></html>`;
}
