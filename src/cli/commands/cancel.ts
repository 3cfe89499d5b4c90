import type { Run } from '../client.js';
import { defineCommand, printJson, runIdArgs } from './define.js';

export const cancel = defineCommand({
  name: 'cancel',
  usage: 'cancel <run>',
  summary: 'Cancel a run: running jobs are stopped, pending approvals withdrawn',
  help: `Options:
  --json   print the cancelled run as JSON

Example:
  signoff cancel 42`,
  async run(args, { client, out }) {
    const { id, json } = runIdArgs(args);
    const { body } = await client().post<Run>(`/api/runs/${id}/cancel`);
    if (json) printJson(out, body);
    else out.print(`run ${body.id} (${body.workflow} #${body.number}) cancelled`);
    return 0;
  },
});
