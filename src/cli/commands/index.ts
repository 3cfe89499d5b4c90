import type { Command } from '../command.js';
import { apply } from './apply.js';
import { approvals } from './approvals.js';
import { cancel } from './cancel.js';
import { approve, reject } from './decide.js';
import { logs } from './logs.js';
import { notifications } from './notifications.js';
import { run } from './run.js';
import { runs } from './runs.js';
import { status } from './status.js';
import { tokens } from './tokens.js';
import { users } from './users.js';
import { watch } from './watch.js';
import { workflows } from './workflows.js';

// `serve` loads the whole server (database, queue, engine): imported only when it runs, so every client
// command starts in a third of the time.
const serve: Command = {
  name: 'serve',
  usage: 'serve',
  summary: 'Start the server (PORT, SIGNOFF_DATA_DIR, DATABASE_URL, SIGNOFF_ADMIN_TOKEN, SIGNOFF_PUBLIC_URL)',
  run: async (args, env) => (await import('./serve.js')).serve(args, env),
};

const rotateKey: Command = {
  name: 'rotate-key',
  usage: 'rotate-key (--new-key <key> | --generate) [--force]',
  summary: 'Re-encrypt stored secrets under a new master key (servers stopped; settings as for serve)',
  run: async (args, env) => (await import('./rotate-key.js')).rotateKey(args, env),
};

const sandbox: Command = {
  name: 'sandbox',
  usage: 'sandbox [--port N]',
  summary: 'Run the fake Feishu, Lark, DingTalk and WeCom on their own (default port 9090)',
  run: async (args) => (await import('./sandbox.js')).sandbox(args),
};

// One line per command.
export const commands: Command[] = [
  serve,
  rotateKey,
  sandbox,
  apply,
  workflows,
  run,
  watch,
  runs,
  status,
  logs,
  approvals,
  notifications,
  approve,
  reject,
  cancel,
  users,
  tokens,
];
