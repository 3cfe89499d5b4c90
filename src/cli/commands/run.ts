import { parseArgs } from 'node:util';
import type { Run } from '../client.js';
import { defineCommand, expectPositionals, jsonOption, printJson, segment, UsageError } from './define.js';
import { exitCodeHelp } from './run-text.js';
import { watchAndReport } from './watch.js';

export const run = defineCommand({
  name: 'run',
  usage: 'run <workflow> [-p key=value ...] [--watch]',
  summary: 'Start a run of a workflow, and optionally follow it until it ends',
  help: `Options:
  -p, --param key=value   set a param of the workflow (repeat for more params)
  -w, --watch             follow the run live until it ends; the exit code says how it ended
  --json                  print the run as JSON (with --watch: the final run, progress goes to stderr)

${exitCodeHelp}

Without --watch the exit code is 0 once the run has started.

Examples:
  signoff run release -p version=1.4.2 --watch
  signoff run nightly`,
  async run(args, { client, out }) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        param: { type: 'string', short: 'p', multiple: true },
        watch: { type: 'boolean', short: 'w' },
        ...jsonOption,
      },
      allowPositionals: true,
      strict: true,
    });
    expectPositionals(positionals, 1);
    const workflow = positionals[0];
    if (!workflow) throw new UsageError('say which workflow to run (see `signoff workflows`)');
    const params: Record<string, string> = {};
    for (const pair of values.param ?? []) {
      const at = pair.indexOf('=');
      if (at <= 0) throw new UsageError(`-p ${pair}: write params as key=value`);
      params[pair.slice(0, at)] = pair.slice(at + 1);
    }
    const api = client();
    const { body: started } = await api.post<Run>(`/api/workflows/${segment(workflow)}/runs`, {
      json: { params },
    });
    if (values.json && !values.watch) {
      printJson(out, started);
      return 0;
    }
    const say = values.json ? out.note : out.print;
    say(`Run ${started.id} started (${started.workflow} #${started.number}): ${started.url}`);
    if (!values.watch) {
      say(out.style.dim(`Follow it with: signoff watch ${started.id}`));
      return 0;
    }
    return watchAndReport(api, started.id, out, values.json === true);
  },
});
