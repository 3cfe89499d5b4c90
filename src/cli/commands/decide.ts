import { parseArgs } from 'node:util';
import type { Approval } from '../client.js';
import {
  defineCommand,
  expectPositionals,
  jsonOption,
  printJson,
  runId,
  segment,
  UsageError,
} from './define.js';
import { approvalState } from './run-text.js';

function decisionCommand(decision: 'approve' | 'reject') {
  const verb = decision === 'approve' ? 'Approve' : 'Reject';
  return defineCommand({
    name: decision,
    usage: `${decision} <run> <job> [-m comment]`,
    summary: `${verb} an approval job of a run`,
    help: `Options:
  -m, --comment <text>   a comment kept with your decision
  --json                 print the approval after your decision as JSON

Prints where the approval stands afterwards: approved, rejected, or pending with how many approvals it
has of how many it needs. ${decision === 'reject' ? 'One rejection rejects the job and ends the run.' : 'Each approver decides once.'}
Only the job's approvers may decide; an admin may too, and is recorded as deciding as an admin.

Example:
  signoff ${decision} 42 prod-approval -m "${decision === 'approve' ? 'looks good' : 'not this week'}"`,
    async run(args, { client, out }) {
      const { values, positionals } = parseArgs({
        args,
        options: { comment: { type: 'string', short: 'm' }, ...jsonOption },
        allowPositionals: true,
        strict: true,
      });
      expectPositionals(positionals, 2);
      const id = runId(positionals[0]);
      const job = positionals[1];
      if (!job) throw new UsageError(`say which job to ${decision} (see \`signoff status ${id}\`)`);
      const { body } = await client().post<Approval>(`/api/runs/${id}/jobs/${segment(job)}/decision`, {
        json: { decision, ...(values.comment !== undefined ? { comment: values.comment } : {}) },
      });
      if (values.json) {
        printJson(out, body);
        return 0;
      }
      const mine = body.decisions.at(-1);
      const admin = mine?.as_admin ? ' (you decided as an admin, not as a listed approver)' : '';
      out.print(`run ${id} ${job}: ${approvalState(body)}${admin}`);
      return 0;
    },
  });
}

export const approve = decisionCommand('approve');
export const reject = decisionCommand('reject');
