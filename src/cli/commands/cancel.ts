import { parseArgs } from 'node:util';
import type { Run } from '../client.js';
import { defineCommand, expectPositionals, jsonOption, printJson, runId } from './define.js';

export const cancel = defineCommand({
  name: 'cancel',
  usage: 'cancel <run>',
  summary: 'Cancel a run: running jobs are stopped, pending approvals withdrawn',
  help: `Options:
  --json   print the cancelled run as JSON

Example:
  signoff cancel 42`,
  async run(args, { client, out }) {
    const { values, positionals } = parseArgs({
      args,
      options: { ...jsonOption },
      allowPositionals: true,
      strict: true,
    });
    expectPositionals(positionals, 1);
    const id = runId(positionals[0]);
    const { body } = await client().post<Run>(`/api/runs/${id}/cancel`);
    if (values.json) printJson(out, body);
    else out.print(`run ${body.id} (${body.workflow} #${body.number}) cancelled`);
    return 0;
  },
});
