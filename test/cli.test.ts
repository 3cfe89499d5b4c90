// The `signoff` CLI as a user runs it: a child process (`node --import tsx src/cli/main.ts …`) talking over
// real HTTP to a real server listening on a free port. The CLI never touches the database, and every CLI
// call costs a Node start-up, so this file runs on PGlite only; the API and engine underneath are
// covered on every database by their own suites.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutput } from '../src/cli/render.js';
import { adminToken, job, startStack, type TestStack, waitFor, waitForRun } from './stack.js';

const root = join(import.meta.dirname, '..');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<Result>;
}

/** Starts `signoff <args>` with SIGNOFF_URL and SIGNOFF_TOKEN set (unless `env` overrides them). */
function start(args: string[], env: Record<string, string | undefined>, stdin?: string): Running {
  const childEnv: Record<string, string | undefined> = { ...process.env, NO_COLOR: undefined, ...env };
  for (const [key, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[key];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    env: childEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  child.stdin!.end(stdin ?? '');
  const done = new Promise<Result>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Free loopback port with nothing listening on it (for the "no server" message). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Each test runs the CLI as child processes; beside the chaos test on a 2-core CI machine one took over 30 s.
describe('signoff CLI (PGlite)', { timeout: 90_000 }, () => {
  let stack: TestStack;
  let url: string;
  const tokens: Record<string, string> = {};
  const children: ChildProcess[] = [];

  function cli(
    args: string[],
    options: { token?: string | undefined; env?: Record<string, string | undefined>; stdin?: string } = {},
  ) {
    const running = start(
      args,
      { SIGNOFF_URL: url, SIGNOFF_TOKEN: 'token' in options ? options.token : adminToken, ...options.env },
      options.stdin,
    );
    children.push(running.child);
    return running;
  }
  const run = (args: string[], options: Parameters<typeof cli>[1] = {}) => cli(args, options).done;

  function file(name: string, text: string): string {
    const path = join(stack.dataDir, name);
    writeFileSync(path, text);
    return path;
  }

  async function runIdOf(stdout: string): Promise<number> {
    const match = /Run (\d+) started/.exec(stdout);
    expect(match, stdout).not.toBeNull();
    return Number(match![1]);
  }

  beforeAll(async () => {
    stack = await startStack('pglite', { listen: true });
    url = stack.signoff.url!;
    for (const name of ['alice', 'bob']) {
      const { status, body } = await stack.call('POST', '/api/users', { name, email: `${name}@example.com` });
      expect(status).toBe(201);
      tokens[name] = body.token;
    }
    const gate = `
name: gate
stages:
  - name: gate
    jobs:
      - name: ok
        type: approval
        spec: { type: native, approvers: [alice, bob] }
  - name: after
    jobs:
      - name: ship
        type: shell
        spec: { script: echo shipped }
`;
    expect((await stack.call('POST', '/api/workflows', gate)).status).toBe(201);
  });

  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await stack?.close();
  });

  it('explains itself: --help lists the exit codes, a bad option is a usage error (exit 2)', async () => {
    // Independent calls run side by side: each is a Node start-up.
    const [help, bad, noRun] = await Promise.all([
      run(['run', '--help']),
      run(['runs', '--frobnicate']),
      run(['status', 'abc']),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: signoff run <workflow>');
    expect(help.stdout).toMatch(/3\s+the run was rejected/);
    expect(help.stdout).toMatch(/5\s+the run was cancelled/);

    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--frobnicate'");
    expect(bad.stderr).toContain('Usage: signoff runs');

    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toContain('abc is not a run id');
  });

  it('tells the user to set SIGNOFF_TOKEN when there is none, and when the server is not there', async () => {
    const nowhere = `http://127.0.0.1:${await closedPort()}`;
    const [missing, wrong, unreachable] = await Promise.all([
      run(['runs'], { token: undefined }),
      run(['runs'], { token: 'not-a-real-token-at-all' }),
      run(['workflows'], { env: { SIGNOFF_URL: nowhere } }),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No API token: set SIGNOFF_TOKEN');

    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('This API token is not valid');

    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(
      `no Signoff server at ${nowhere}; start one with \`signoff serve\` or set SIGNOFF_URL`,
    );
  });

  it('applies a workflow (created, then updated), from a file and from stdin as JSON', async () => {
    const yaml = file(
      'hello.yaml',
      'name: hello\nstages:\n  - name: one\n    jobs:\n      - { name: hi, type: shell, spec: { script: echo hi } }\n',
    );
    const created = await run(['apply', '-f', yaml]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout.trim()).toBe('workflow hello created (version 1)');

    const document = {
      name: 'hello',
      stages: [{ name: 'one', jobs: [{ name: 'hi', type: 'shell', spec: { script: 'echo hello' } }] }],
    };
    const updated = await run(['apply', '-f', '-'], { stdin: JSON.stringify(document) });
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout.trim()).toBe('workflow hello updated (version 2)');

    const list = await run(['workflows']);
    expect(list.stdout).toMatch(/^NAME\s+VERSION\s+STAGES\s+UPDATED$/m);
    expect(list.stdout).toMatch(/^hello\s+2\s+one\s/m);
    expect(list.stdout).toMatch(/^gate\s+1\s+gate → after\s/m);
  });

  it('refuses an invalid workflow listing every problem with its line and column (exit 1)', async () => {
    const bad = file(
      'bad.yaml',
      [
        'name: Bad Name',
        'stages:',
        '  - name: build',
        '    jobs:',
        '      - name: compile',
        '        type: shel',
        '        spec: { script: echo }',
        '',
      ].join('\n'),
    );
    const result = await run(['apply', '-f', bad]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`${bad}: not applied, 2 problems:`);
    expect(result.stderr).toMatch(/^ {2}line 1, column 7: name: /m);
    expect(result.stderr).toMatch(/^ {2}line 6, column 15: stages\[0\]\.jobs\[0\]\.type: /m);
    expect((await stack.call('GET', '/api/workflows/Bad Name')).status).toBe(404);

    const absent = await run(['apply', '-f', join(stack.dataDir, 'absent.yaml')]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toContain('absent.yaml: no such file');
  });

  it('watches a run through a shell job and an approval decided from a second process (exit 0)', async () => {
    const workflow = file(
      'release.yaml',
      `
name: release
params:
  - { name: version, required: true }
stages:
  - name: build
    jobs:
      - name: compile
        type: shell
        spec: { script: "echo building {{ params.version }}" }
  - name: approve
    jobs:
      - name: prod-approval
        type: approval
        spec: { type: native, approvers: [alice, bob], needed_approvers: 1, description: "Ship {{ params.version }}?" }
  - name: ship
    jobs:
      - name: deploy
        type: shell
        spec: { script: echo deployed }
`,
    );
    expect((await run(['apply', '-f', workflow])).code).toBe(0);

    const watcher = cli(['run', 'release', '-p', 'version=1.4.2', '--watch']);
    await waitFor(
      async () => watcher.stdout().includes('waiting for approval'),
      'the watcher to show the waiting approval',
    );
    const runId = await runIdOf(watcher.stdout());
    expect(watcher.stdout()).toContain(
      `  ⏳ approve/prod-approval waiting for approval (alice, bob; 1 of 2 needed) — approve with: signoff approve ${runId} prod-approval`,
    );

    const pending = await run(['approvals']);
    expect(pending.stdout).toMatch(
      new RegExp(`^${runId}\\s+release\\s+prod-approval\\s+alice, bob \\(1 needed\\)\\s+—\\s+in `, 'm'),
    );

    const approved = await run(['approve', String(runId), 'prod-approval', '-m', 'ship it'], {
      token: tokens.alice,
    });
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout.trim()).toBe(`run ${runId} prod-approval: approved`);

    const result = await watcher.done;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    const order = [
      `Run ${runId} started (release #1): http://signoff.test/runs/${runId}`,
      '  ✓ build/compile passed',
      '  ⏳ approve/prod-approval waiting for approval',
      '      Ship 1.4.2?',
      '  ✓ approve/prod-approval passed',
      '  ✓ ship/deploy passed',
      `✓ run ${runId} (release #1) passed in `,
    ].map((prefix) => lines.findIndex((line) => line.startsWith(prefix)));
    expect(
      order.every((index) => index >= 0),
      result.stdout,
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(result.stdout).toContain('approved by alice');
    // piped output is plain text
    expect(result.stdout).not.toContain('\u001b[');

    const status = await run(['status', String(runId)]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^Run ${runId}\\s+release #1\\s+✓ passed in `, 'm'));
    expect(status.stdout).toContain('params: version=1.4.2');
    expect(status.stdout).toMatch(/✓ alice approved .*: "ship it"/);
    expect(status.stdout).toMatch(/^ {4}✓ deploy\s+passed/m);

    const logs = await run(['logs', String(runId)]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('[compile] building 1.4.2\n');
    expect(logs.stdout).toContain('[deploy] deployed\n');
    const one = await run(['logs', String(runId), 'compile']);
    expect(one.stdout).toBe('building 1.4.2\n');
  });

  it('exits 1 when the run fails, and points at the failing job', async () => {
    const workflow = file(
      'failing.yaml',
      `
name: failing
stages:
  - name: build
    jobs:
      - name: broken
        type: shell
        spec: { script: "echo oops >&2; exit 3" }
  - name: deploy
    jobs:
      - name: never
        type: shell
        spec: { script: echo never }
`,
    );
    expect((await run(['apply', '-f', workflow])).code).toBe(0);
    const result = await run(['run', 'failing', '--watch']);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^ {2}✗ build\/broken failed .* — exit code 3$/m);
    expect(result.stdout).toMatch(/^ {2}↷ deploy\/never skipped$/m);
    expect(result.stdout).toMatch(/^✗ run \d+ \(failing #1\) failed in .*: broken: exit code 3$/m);
    const runId = await runIdOf(result.stdout);
    expect(result.stdout).toContain(`its log: signoff logs ${runId} broken`);

    const logs = await run(['logs', String(runId), 'broken']);
    expect(logs.stdout).toContain('oops');
    const runs = await run(['runs', '--workflow', 'failing']);
    expect(runs.stdout).toMatch(/^ID\s+RUN\s+STATUS\s+STARTED\s+DURATION\s+TRIGGERED BY$/m);
    expect(runs.stdout).toMatch(
      new RegExp(`^${runId}\\s+failing #1\\s+✗ failed\\s+.+ago\\s+\\S+\\s+admin$`, 'm'),
    );
  });

  it("shows a run's delivery log: where each message went, delivered or why not", async () => {
    const receiver = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(req.url?.startsWith('/gone') ? 410 : 200).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as { port: number }).port;
    try {
      const workflow = file(
        'told.yaml',
        `
name: told
stages:
  - name: s
    jobs:
      - { name: j, type: shell, spec: { script: "true" } }
notify:
  - { on: [passed], channel: webhook, url: "http://127.0.0.1:${port}/ok" }
  - { on: [passed], channel: webhook, url: "http://127.0.0.1:${port}/gone?key=sekrit" }
`,
      );
      expect((await run(['apply', '-f', workflow])).code).toBe(0);
      const started = await run(['run', 'told', '--watch']);
      const runId = await runIdOf(started.stdout);
      await waitFor(async () => {
        const { body } = await stack.call('GET', `/api/runs/${runId}/notifications`);
        return body.notifications.every((row: { status: string }) =>
          ['delivered', 'failed'].includes(row.status),
        )
          ? body
          : undefined;
      }, 'both messages to settle');
      const result = await run(['notifications', String(runId)]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^ID\s+JOB\s+EVENT\s+CHANNEL\s+TARGET\s+STATUS\s+TRIES\s+WHEN \/ WHY$/m);
      expect(result.stdout).toMatch(
        /passed\s+webhook\s+http:\/\/127\.0\.0\.1:\d+\/ok\s+✓ delivered\s+1\s+(just now|.*ago)/,
      );
      expect(result.stdout).toMatch(
        /passed\s+webhook\s+http:\/\/127\.0\.0\.1:\d+\/gone\?…\s+✗ failed\s+1\s+.*HTTP 410/,
      );
      expect(result.stdout).not.toContain('sekrit');
      const status = await run(['status', String(runId)]);
      expect(status.stdout).toContain(
        `notifications: 1 delivered, 1 failed  (signoff notifications ${runId})`,
      );
      const failedOnly = await run(['notifications', '--status', 'failed']);
      expect(failedOnly.stdout).toContain('/gone?…');
      expect(failedOnly.stdout).not.toContain('/ok ');
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('exits 3 when an approver rejects the watched run', async () => {
    const watcher = cli(['run', 'gate', '--watch']);
    await waitFor(
      async () => watcher.stdout().includes('waiting for approval'),
      'the watcher to show the waiting approval',
    );
    const runId = await runIdOf(watcher.stdout());
    const rejected = await run(['reject', String(runId), 'ok', '-m', 'not today'], { token: tokens.bob });
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(rejected.stdout.trim()).toBe(`run ${runId} ok: rejected`);
    const result = await watcher.done;
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expect(result.stdout).toMatch(/^ {2}✗ gate\/ok rejected .* — rejected by bob: not today$/m);
    expect(result.stdout).toMatch(new RegExp(`^✗ run ${runId} \\(gate #\\d+\\) rejected in `, 'm'));
  });

  it('shows N-of-M progress, refuses a second decision, and exits 5 for a cancelled run', async () => {
    const pair = `
name: pair
stages:
  - name: gate
    jobs:
      - name: both
        type: approval
        spec: { type: native, approvers: [alice, bob], needed_approvers: 2 }
`;
    expect((await stack.call('POST', '/api/workflows', pair)).status).toBe(201);
    const started = await stack.call('POST', '/api/workflows/pair/runs', {});
    const runId: number = started.body.id;
    await waitFor(async () => {
      const { body } = await stack.call('GET', `/api/runs/${runId}`);
      return job(body, 'both').status === 'waiting_for_approval';
    }, 'the approval to wait');
    const watcher = cli(['watch', String(runId)]);
    await waitFor(async () => watcher.stdout().includes('waiting for approval'), 'the watcher to start');
    expect(watcher.stdout()).toContain('(alice, bob; 2 of 2 needed)');

    const first = await run(['approve', String(runId), 'both', '-m', 'fine by me'], { token: tokens.alice });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe(`run ${runId} both: pending: 1 of 2 approvals`);
    await waitFor(
      async () => watcher.stdout().includes('… gate/both: alice approved'),
      'the watcher to show the decision',
    );
    expect(watcher.stdout()).toMatch(/… gate\/both: alice approved .*: "fine by me"/);
    const twice = await run(['approve', String(runId), 'both'], { token: tokens.alice });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('alice has already decided on this approval.');

    const cancelled = await run(['cancel', String(runId)]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout.trim()).toBe(`run ${runId} (pair #1) cancelled`);
    const result = await watcher.done;
    expect(result.code, result.stdout + result.stderr).toBe(5);
    expect(result.stdout).toContain('⊘ gate/both cancelled');
    expect(result.stdout).toMatch(
      new RegExp(`^⊘ run ${runId} \\(pair #1\\) cancelled in .*: cancelled by admin$`, 'm'),
    );

    const late = await run(['approve', String(runId), 'both'], { token: tokens.bob });
    expect(late.code).toBe(1);
    expect(late.stderr).toContain('This approval has already ended: cancelled.');
  });

  it('follows the logs of a running job until the run ends', async () => {
    const workflow = file(
      'chatty.yaml',
      [
        'name: chatty',
        'stages:',
        '  - name: one',
        '    jobs:',
        '      - { name: talk, type: shell, spec: { script: "echo first; sleep 1; echo second" } }',
        '      - { name: echo, type: shell, spec: { script: "echo other" } }',
        '',
      ].join('\n'),
    );
    expect((await run(['apply', '-f', workflow])).code).toBe(0);
    const started = await stack.call('POST', '/api/workflows/chatty/runs', {});
    const follower = await run(['logs', String(started.body.id), '--follow']);
    expect(follower.code, follower.stderr).toBe(0);
    expect(follower.stdout).toContain('[talk] first\n');
    expect(follower.stdout).toContain('[talk] second\n');
    expect(follower.stdout).toContain('[echo] other\n');
    expect((await waitForRun(stack, started.body.id)).status).toBe('passed');
  });

  it('exits 4 when a job times out', async () => {
    const workflow = file(
      'slow.yaml',
      'name: slow\nstages:\n  - name: one\n    jobs:\n      - { name: nap, type: shell, spec: { script: "sleep 20", timeout: 1s } }\n',
    );
    expect((await run(['apply', '-f', workflow])).code).toBe(0);
    const result = await run(['run', 'slow', '--watch']);
    expect(result.code, result.stdout + result.stderr).toBe(4);
    expect(result.stdout).toMatch(/^⌛ run \d+ \(slow #1\) timeout in /m);
  });

  it('adds a user whose printed token works at once, and manages tokens', async () => {
    const added = await run(['users', 'add', 'dave', '--email', 'dave@example.com']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('User dave created.');
    expect(added.stdout).toContain('shown only this once');
    const token = /export SIGNOFF_TOKEN=(\S+)/.exec(added.stdout)?.[1];
    expect(token).toBeTruthy();

    const list = await run(['users'], { token });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^dave\s+dave@example\.com\s/m);
    expect(list.stdout).toMatch(/^admin\s+admin\s/m);

    const issued = await run(['tokens', 'add', '--label', 'laptop'], { token });
    expect(issued.code, issued.stderr).toBe(0);
    const id = /Token (\S+) issued for dave \(laptop\)/.exec(issued.stdout)?.[1];
    const second = /export SIGNOFF_TOKEN=(\S+)/.exec(issued.stdout)?.[1];
    expect(id && second).toBeTruthy();
    const mine = await run(['tokens'], { token: second });
    expect(mine.stdout).toMatch(new RegExp(`^${id}\\s+laptop\\s`, 'm'));
    expect((await run(['tokens', 'rm', id!], { token })).stdout.trim()).toBe(`token ${id} revoked`);
    const revoked = await run(['tokens'], { token: second });
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toContain('not valid');

    const forbidden = await run(['users', 'add', 'eve'], { token });
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain('Only an admin can create users.');

    expect((await run(['users', 'rm', 'dave'])).stdout.trim()).toBe('user dave removed');
    expect((await run(['users'], { token })).code).toBe(1);
  });

  it('colours only a terminal, and never with NO_COLOR', () => {
    const terminal = { isTTY: true, write: () => true };
    expect(createOutput({}, terminal, terminal).style.green('ok')).toBe('\u001b[32mok\u001b[39m');
    expect(createOutput({ NO_COLOR: '1' }, terminal, terminal).style.green('ok')).toBe('ok');
    const pipe = { write: () => true };
    expect(createOutput({}, pipe, pipe).style.green('ok')).toBe('ok');
  });

  it('prints raw API JSON with --json', async () => {
    const result = await run(['workflows', '--json']);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body.workflows.map((workflow: { name: string }) => workflow.name)).toContain('gate');
  });
});
