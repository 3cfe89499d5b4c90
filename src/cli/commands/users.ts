import { parseArgs } from 'node:util';
import type { User } from '../client.js';
import type { Output } from '../render.js';
import { relativeTime, table } from '../render.js';
import { defineCommand, expectPositionals, jsonOption, printJson, segment, UsageError } from './define.js';

export const users = defineCommand({
  name: 'users',
  usage: 'users [add <name> [--email E] [--admin] | rm <name>]',
  summary: 'List, add and remove users (approvers are users)',
  help: `Commands:
  users                      list users
  users add <name>           add a user (admins only); prints the user's API token once
      --email <address>      their email (approvals may name people by email)
      --mobile <number>      their mobile number
      --admin                make them an admin
  users rm <name>            remove a user and their tokens (admins only)

Options:
  --json                     print the API's JSON

Examples:
  signoff users add alice --email alice@example.com
  signoff users rm alice`,
  async run(args, { client, out }) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        email: { type: 'string' },
        mobile: { type: 'string' },
        admin: { type: 'boolean' },
        ...jsonOption,
      },
      allowPositionals: true,
      strict: true,
    });
    const [action = 'list', name] = positionals;
    if (action !== 'add' && (values.email !== undefined || values.mobile !== undefined || values.admin)) {
      throw new UsageError('--email, --mobile and --admin go with `users add`');
    }
    if (action === 'list' || action === 'ls') {
      expectPositionals(positionals, 1);
      const body = await client().get<{ users: User[] }>('/api/users');
      if (values.json) printJson(out, body);
      else printUsers(out, body.users);
      return 0;
    }
    if (action === 'add') {
      expectPositionals(positionals, 2);
      if (!name) throw new UsageError("say the new user's name: users add <name>");
      const { body } = await client().post<{ user: User; token: string }>('/api/users', {
        json: {
          name,
          ...(values.email !== undefined ? { email: values.email } : {}),
          ...(values.mobile !== undefined ? { mobile: values.mobile } : {}),
          ...(values.admin ? { is_admin: true } : {}),
        },
      });
      if (values.json) printJson(out, body);
      else
        printNewToken(
          out,
          `User ${body.user.name} created${body.user.is_admin ? ' (admin)' : ''}.`,
          body.token,
        );
      return 0;
    }
    if (action === 'rm' || action === 'remove' || action === 'delete') {
      expectPositionals(positionals, 2);
      if (!name) throw new UsageError('say which user to remove: users rm <name>');
      await client().delete(`/api/users/${segment(name)}`);
      if (!values.json) out.print(`user ${name} removed`);
      return 0;
    }
    throw new UsageError(`unknown users command ${action}: use add or rm, or nothing to list users`);
  },
});

function printUsers(out: Output, list: User[]): void {
  const now = Date.now();
  const rows = list.map((user) => [
    user.name,
    user.email ?? '',
    user.mobile ?? '',
    user.is_admin ? 'admin' : '',
    relativeTime(user.created_at, now),
  ]);
  out.print(table(['name', 'email', 'mobile', 'role', 'created'], rows, out.style, 'no users'));
}

/** A token is shown only when it is issued: say so, and show how to use it. */
export function printNewToken(out: Output, headline: string, token: string): void {
  const { style } = out;
  out.print(headline);
  out.print(`API token (shown only this once; store it now):`);
  out.print('');
  out.print(`    ${style.bold(token)}`);
  out.print('');
  out.print(`Use it with the CLI:  export SIGNOFF_TOKEN=${token}`);
}
