import type { WorkflowSummary } from '../client.js';
import { relativeTime, table } from '../render.js';
import { defineCommand, jsonOnlyArgs, printJson } from './define.js';

export const workflows = defineCommand({
  name: 'workflows',
  usage: 'workflows',
  summary: 'List workflows',
  help: `Options:
  --json   print the API's JSON

Add or change one with: signoff apply -f workflow.yaml`,
  async run(args, { client, out }) {
    const { json } = jsonOnlyArgs(args, 0);
    const body = await client().get<{ workflows: WorkflowSummary[] }>('/api/workflows');
    if (json) {
      printJson(out, body);
      return 0;
    }
    const now = Date.now();
    const rows = body.workflows.map((workflow) => [
      workflow.name,
      String(workflow.version),
      workflow.stages.map((stage) => stage.name).join(' → '),
      relativeTime(workflow.updated_at, now),
    ]);
    out.print(
      table(
        ['name', 'version', 'stages', 'updated'],
        rows,
        out.style,
        'no workflows yet; add one with `signoff apply -f workflow.yaml`',
      ),
    );
    return 0;
  },
});
