import { parseArgs } from 'node:util';
import type { Approval } from '../client.js';
import { relativeTime, statusLabel, table } from '../render.js';
import { defineCommand, expectPositionals, jsonOption, printJson, UsageError } from './define.js';
import { approversSummary, decisionsSummary } from './run-text.js';

const statuses = ['pending', 'approved', 'rejected', 'timeout', 'cancelled', 'all'];

export const approvals = defineCommand({
  name: 'approvals',
  usage: 'approvals [--status S]',
  summary: 'List approvals waiting for a decision, soonest deadline first',
  help: `Options:
  --status <status>   ${statuses.join(', ')} (default pending)
  --json              print the API's JSON

Decide one with: signoff approve <run> <job>   or   signoff reject <run> <job>`,
  async run(args, { client, out }) {
    const { values, positionals } = parseArgs({
      args,
      options: { status: { type: 'string' }, ...jsonOption },
      allowPositionals: true,
      strict: true,
    });
    expectPositionals(positionals, 0);
    if (values.status !== undefined && !statuses.includes(values.status)) {
      throw new UsageError(`--status ${values.status}: use one of ${statuses.join(', ')}`);
    }
    const body = await client().get<{ approvals: Approval[] }>('/api/approvals', {
      query: { status: values.status },
    });
    if (values.json) {
      printJson(out, body);
      return 0;
    }
    const now = Date.now();
    const pendingOnly = (values.status ?? 'pending') === 'pending';
    const rows = body.approvals.map((approval) => [
      String(approval.run_id),
      approval.workflow,
      approval.job,
      ...(pendingOnly ? [] : [statusLabel(approval.status, out.style)]),
      approversSummary(approval),
      decisionsSummary(approval),
      approval.status === 'pending'
        ? relativeTime(approval.deadline, now)
        : relativeTime(approval.decided_at, now),
    ]);
    const headers = [
      'run',
      'workflow',
      'job',
      ...(pendingOnly ? [] : ['status']),
      'approvers',
      'decisions',
      pendingOnly ? 'deadline' : 'deadline/decided',
    ];
    out.print(table(headers, rows, out.style, pendingOnly ? 'no approvals waiting' : 'no approvals'));
    return 0;
  },
});
