import type { Command } from '../command.js';
import { apply } from './apply.js';
import { approvals } from './approvals.js';
import { cancel } from './cancel.js';
import { approve, reject } from './decide.js';
import { logs } from './logs.js';
import { run } from './run.js';
import { runs } from './runs.js';
import { serve } from './serve.js';
import { status } from './status.js';
import { tokens } from './tokens.js';
import { users } from './users.js';
import { watch } from './watch.js';
import { workflows } from './workflows.js';

// One line per command.
export const commands: Command[] = [
  serve,
  apply,
  workflows,
  run,
  watch,
  runs,
  status,
  logs,
  approvals,
  approve,
  reject,
  cancel,
  users,
  tokens,
];
