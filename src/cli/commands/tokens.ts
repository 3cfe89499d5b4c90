import { parseArgs } from 'node:util';
import type { IssuedToken, TokenInfo, User } from '../client.js';
import { relativeTime, table } from '../render.js';
import { defineCommand, expectPositionals, jsonOption, printJson, segment, UsageError } from './define.js';
import { printNewToken } from './users.js';

export const tokens = defineCommand({
  name: 'tokens',
  usage: 'tokens [user] | tokens add [user] | tokens rm <id>',
  summary: "List, issue and revoke API tokens (your own, or anyone's as an admin)",
  help: `Commands:
  tokens [user]              list the tokens of a user (default: you); never the tokens themselves
  tokens add [user]          issue a new token (default: for you); it is printed once
      --label <text>         what the token is for, e.g. "ci"
  tokens rm <id>             revoke a token (ids are in the list)

Options:
  --json                     print the API's JSON

Examples:
  signoff tokens add --label laptop
  signoff tokens add alice --label ci
  signoff tokens rm tok_3kT9...`,
  async run(args, { client, out }) {
    const { values, positionals } = parseArgs({
      args,
      options: { label: { type: 'string' }, ...jsonOption },
      allowPositionals: true,
      strict: true,
    });
    const api = client();
    const [first, second] = positionals;
    const me = async () => (await api.get<User>('/api/me')).name;
    if (first !== 'add' && values.label !== undefined) throw new UsageError('--label goes with `tokens add`');

    if (first === 'add') {
      expectPositionals(positionals, 2);
      const user = second ?? (await me());
      const { body } = await api.post<IssuedToken>(`/api/users/${segment(user)}/tokens`, {
        json: values.label !== undefined ? { label: values.label } : {},
      });
      if (values.json) printJson(out, body);
      else
        printNewToken(
          out,
          `Token ${body.info.id} issued for ${user}${body.info.label ? ` (${body.info.label})` : ''}.`,
          body.token,
        );
      return 0;
    }
    if (first === 'rm' || first === 'revoke' || first === 'delete') {
      expectPositionals(positionals, 2);
      if (!second) throw new UsageError('say which token to revoke: tokens rm <id> (see `signoff tokens`)');
      await api.delete(`/api/tokens/${segment(second)}`);
      if (!values.json) out.print(`token ${second} revoked`);
      return 0;
    }
    const listArgs = first === 'list' || first === 'ls' ? positionals.slice(1) : positionals;
    expectPositionals(listArgs, 1);
    const user = listArgs[0] ?? (await me());
    const body = await api.get<{ tokens: TokenInfo[] }>(`/api/users/${segment(user)}/tokens`);
    if (values.json) {
      printJson(out, body);
      return 0;
    }
    const now = Date.now();
    const rows = body.tokens.map((token) => [
      token.id,
      token.label ?? '',
      relativeTime(token.created_at, now),
      token.last_used_at ? relativeTime(token.last_used_at, now) : 'never',
    ]);
    out.print(table(['id', 'label', 'created', 'last used'], rows, out.style, `${user} has no tokens`));
    return 0;
  },
});
