import { parseArgs } from 'node:util';
import { runStatuses } from '../../engine/status.js';
import type { RunSummary } from '../client.js';
import { duration, relativeTime, statusLabel, table } from '../render.js';
import { defineCommand, expectPositionals, jsonOption, printJson, UsageError } from './define.js';

const statuses: readonly string[] = runStatuses;

export const runs = defineCommand({
  name: 'runs',
  usage: 'runs [--workflow W] [--status S] [--limit N]',
  summary: 'List runs, newest first',
  help: `Options:
  --workflow <name>   only runs of this workflow
  --status <status>   only runs with this status: ${statuses.join(', ')}
  --limit <n>         at most n runs (1 to 500, default 50)
  --json              print the API's JSON

See one run in detail with: signoff status <run>`,
  async run(args, { client, out }) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        workflow: { type: 'string' },
        status: { type: 'string' },
        limit: { type: 'string', short: 'n' },
        ...jsonOption,
      },
      allowPositionals: true,
      strict: true,
    });
    expectPositionals(positionals, 0);
    if (values.status !== undefined && !statuses.includes(values.status)) {
      throw new UsageError(`--status ${values.status}: use one of ${statuses.join(', ')}`);
    }
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500)) {
      throw new UsageError(`--limit ${values.limit}: give a whole number from 1 to 500`);
    }
    const api = client();
    const body = await api.get<{ runs: RunSummary[] }>('/api/runs', {
      query: { workflow: values.workflow, status: values.status, limit },
    });
    if (values.json) {
      printJson(out, body);
      return 0;
    }
    const now = Date.now();
    const rows = body.runs.map((run) => [
      String(run.id),
      `${run.workflow} #${run.number}`,
      statusLabel(run.status, out.style),
      relativeTime(run.started_at ?? run.created_at, now),
      duration(run.duration_ms),
      run.triggered_by ?? '',
    ]);
    out.print(
      table(['id', 'run', 'status', 'started', 'duration', 'triggered by'], rows, out.style, 'no runs'),
    );
    return 0;
  },
});
