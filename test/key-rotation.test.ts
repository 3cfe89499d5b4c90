// Rotating SIGNOFF_SECRET_KEY: every sealed value (IM app secrets, notification destinations) re-encrypted
// under the new key in one go, and every IM app still passing its credential check with it, on every test
// database; then `signoff rotate-key` itself on an embedded data directory: the key file replaced, the new
// key printed once, safe to run again, refused while a server holds the directory.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateKey } from '../src/cli/commands/rotate-key.js';
import { readConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import type { ImType } from '../src/providers/types.js';
import { createSandboxVendors, type SandboxVendor } from '../src/sandbox/vendors.js';
import { type Signoff, startSignoff } from '../src/server.js';
import { rotateSecrets } from '../src/store/rotate-secrets.js';
import { createSecretBox, generateKey, parseKey, type SecretBox } from '../src/store/secret-box.js';
import { apiRequest } from './api-request.js';
import { adminToken, databases, startStack, type TestStack, waitFor, waitForRun } from './stack.js';

const types: ImType[] = ['feishu', 'lark', 'dingtalk', 'wecom'];
const sandbox = Object.fromEntries(
  createSandboxVendors({ callbackFetch: fetch }).map((vendor) => [vendor.type, vendor.imApp]),
) as Record<ImType, SandboxVendor['imApp']>;

/** An app of our own (not the sandbox's, which are registered again at every start) on a sandbox fake. */
function appOn(type: ImType, publicUrl: string, name: string): Record<string, unknown> {
  const base = `${publicUrl}/sandbox/${type}`;
  return {
    type,
    name,
    ...sandbox[type].settings,
    ...sandbox[type].secrets,
    event_mode: 'poll',
    api_base: base,
    ...(type === 'dingtalk' ? { oapi_base: base } : {}),
  };
}

/** `signoff rotate-key` in this process, its stdout and stderr lines kept apart. */
async function runRotateKey(args: string[], env: Record<string, string>) {
  const printed: string[] = [];
  const notes: string[] = [];
  const code = await rotateKey(args, env, {
    print: (line) => printed.push(line),
    note: (line) => notes.push(line),
  });
  return { code, printed: printed.join('\n'), notes: notes.join('\n') };
}

const opens = (box: SecretBox, sealed: string, boundTo: string) => {
  try {
    box.open(sealed, boundTo);
    return true;
  } catch {
    return false;
  }
};

describe.each(databases)('key rotation (%s)', (kind) => {
  let stack: TestStack;
  const ids: Record<string, string> = {};
  /** The master key the server runs with now (hex). */
  let keyInUse: string;

  beforeAll(async () => {
    stack = await startStack(kind, { sandbox: true });
    for (const type of types) {
      const created = await stack.call(
        'POST',
        '/api/im-apps',
        appOn(type, 'http://signoff.test', `own-${type}`),
      );
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      ids[type] = created.body.id;
    }
    // A message whose destination (a robot URL with its token, and its signing secret) is sealed.
    const saved = await stack.call(
      'POST',
      '/api/workflows',
      `name: tell
stages:
  - name: one
    jobs:
      - { name: hello, type: shell, spec: { script: "true" } }
notify:
  - on: [passed]
    channel: dingtalk_robot
    url: http://signoff.test/sandbox/dingtalk/robot/send?access_token=signoff-demo-robot
    secret: SECsignoffdemorobotsecret
`,
    );
    expect(saved.status).toBe(201);
    keyInUse = readFileSync(join(stack.dataDir, 'secret.key'), 'utf8').trim();
  }, 60_000);
  afterAll(() => stack?.close());

  const sealedRows = async () => ({
    apps: await stack.signoff.db.query<{ id: string; secrets: string }>('select id, secrets from im_apps'),
    notifications: await stack.signoff.db.query<{ sealed: string; dedup_key: string }>(
      'select sealed, dedup_key from notifications where sealed is not null',
    ),
  });

  async function tell(): Promise<void> {
    const started = await stack.call('POST', '/api/workflows/tell/runs', {});
    expect((await waitForRun(stack, started.body.id)).status).toBe('passed');
    await waitFor(async () => {
      const { body } = await stack.call('GET', `/api/runs/${started.body.id}/notifications`);
      return body.notifications.length === 1 && body.notifications[0].status === 'delivered';
    }, 'the robot message to be delivered');
  }

  it('re-encrypts every stored secret; after a restart with the new key every IM app still works', async () => {
    await tell();
    const oldKey = parseKey(keyInUse, 'secret.key');
    const newKey = generateKey();
    const [oldBox, newBox] = [createSecretBox(oldKey), createSecretBox(parseKey(newKey, 'new'))];
    const before = await sealedRows();
    expect(before.apps).toHaveLength(8);
    expect(before.notifications.length).toBeGreaterThanOrEqual(1);

    let first: Awaited<ReturnType<typeof rotateSecrets>> = [];
    let again: Awaited<ReturnType<typeof rotateSecrets>> = [];
    const progress: string[] = [];
    await stack.restart(
      async () => {
        first = await rotateSecrets(stack.signoff.db, oldBox, newBox, (step) =>
          progress.push(`${step.what}: ${step.done}/${step.total}`),
        );
        again = await rotateSecrets(stack.signoff.db, oldBox, newBox);
      },
      { config: { secretKey: newKey } },
    );
    keyInUse = newKey;
    expect(first.map(({ table, rotated, alreadyNew }) => ({ table, rotated, alreadyNew }))).toEqual([
      { table: 'im_apps', rotated: 8, alreadyNew: 0 },
      { table: 'notifications', rotated: before.notifications.length, alreadyNew: 0 },
    ]);
    expect(progress).toContain('IM app secrets: 8/8');
    // Run again: everything is already under the new key, nothing changes.
    expect(again.map(({ rotated, alreadyNew }) => ({ rotated, alreadyNew }))).toEqual([
      { rotated: 0, alreadyNew: 8 },
      { rotated: 0, alreadyNew: before.notifications.length },
    ]);

    for (const type of types) {
      for (const id of [ids[type], `ima_sandbox_${type}`]) {
        const tested = await stack.call('POST', `/api/im-apps/${id}/test`);
        expect(tested.status).toBe(200);
        expect(tested.body, `${id} after rotation`).toMatchObject({ ok: true, error: null });
      }
    }
    const after = await sealedRows();
    for (const app of after.apps) {
      expect(opens(newBox, app.secrets, `im_app:${app.id}`)).toBe(true);
      expect(opens(oldBox, app.secrets, `im_app:${app.id}`), `${app.id} still opens with the old key`).toBe(
        false,
      );
    }
    for (const row of after.notifications) {
      expect(opens(newBox, row.sealed, row.dedup_key)).toBe(true);
      expect(opens(oldBox, row.sealed, row.dedup_key)).toBe(false);
    }
    // Messages go on being sealed and sent with the new key.
    await tell();
  });

  it('changes nothing when a value opens with neither key', async () => {
    const current = createSecretBox(parseKey(keyInUse, 'in use'));
    const stranger = createSecretBox(parseKey(generateKey(), 'stranger'));
    const [app] = await stack.signoff.db.query<{ id: string; secrets: string }>(
      `select id, secrets from im_apps where id = $1`,
      [ids.wecom!],
    );
    // The secrets sealed under a third key: the rotation refuses, and every other row stays as it was.
    await stack.signoff.db.query('update im_apps set secrets = $2 where id = $1', [
      app!.id,
      stranger.seal('{}', `im_app:${app!.id}`),
    ]);
    const before = await sealedRows();
    await expect(
      rotateSecrets(stack.signoff.db, current, createSecretBox(parseKey(generateKey(), 'n'))),
    ).rejects.toThrow(/opens with neither the old key nor the new one; nothing was changed/);
    expect(await sealedRows()).toEqual(before);
    await stack.signoff.db.query('update im_apps set secrets = $2 where id = $1', [app!.id, app!.secrets]);
  });

  it.skipIf(kind !== 'postgres')(
    'signoff rotate-key on PostgreSQL: refused while a server beats; with the servers stopped, it rotates',
    async () => {
      const [{ schema }] = (await stack.signoff.db.query<{ schema: string }>(
        'select current_schema() as schema',
      )) as [{ schema: string }];
      const base = process.env.TEST_DATABASE_URL!;
      // This file's schema, as an operator would point DATABASE_URL at theirs.
      const url = `${base}${base.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const env = { DATABASE_URL: url, SIGNOFF_SECRET_KEY: keyInUse, SIGNOFF_DATA_DIR: stack.dataDir };
      await expect(runRotateKey(['--generate'], env)).rejects.toThrow(
        /Signoff server\(s\) ran on this database within the last 20 s; stop them first/,
      );

      const next = generateKey();
      let rotated: Awaited<ReturnType<typeof runRotateKey>> | undefined;
      await stack.restart(
        async () => {
          rotated = await runRotateKey(['--new-key', next], env);
        },
        { config: { secretKey: next } },
      );
      keyInUse = next;
      expect(rotated!.code).toBe(0);
      expect(rotated!.printed).toBe('');
      expect(rotated!.notes).toContain('the key in use is from SIGNOFF_SECRET_KEY');
      expect(rotated!.notes).toMatch(/IM app secrets: 8 re-encrypted, 0 already under the new key/);
      expect(rotated!.notes).toContain('Start every instance with SIGNOFF_SECRET_KEY set to the new key');
      for (const type of types) {
        const tested = await stack.call('POST', `/api/im-apps/${ids[type]}/test`);
        expect(tested.body, type).toMatchObject({ ok: true, error: null });
      }
    },
  );
});

describe('signoff rotate-key on an embedded data directory', () => {
  let dataDir: string;
  let signoff: Signoff | undefined;
  const log = createLogger({
    level: 'silent',
    destination: new Writable({ write: (_c, _e, done) => done() }),
  });
  const env = () => ({
    SIGNOFF_DATA_DIR: dataDir,
    SIGNOFF_ADMIN_TOKEN: adminToken,
    SIGNOFF_LOG_LEVEL: 'silent',
  });
  const keyFile = () => join(dataDir, 'secret.key');
  let ownApp: string;

  const serve = async (extra: Record<string, string> = {}) => {
    signoff = await startSignoff({ config: readConfig({ ...env(), ...extra }), log, listen: false });
    return signoff;
  };
  const stop = async () => {
    await signoff?.close();
    signoff = undefined;
  };
  const call = async (method: string, path: string, body?: unknown) => {
    const { status, text } = await apiRequest(signoff!.app, adminToken, method, path, body);
    return { status, body: text ? JSON.parse(text) : undefined };
  };
  const rotate = (args: string[], extra: Record<string, string> = {}) =>
    runRotateKey(args, { ...env(), ...extra });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'signoff-rotate-'));
    await serve();
    const created = await call(
      'POST',
      '/api/im-apps',
      appOn('feishu', 'http://localhost:8080', 'own-feishu'),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    ownApp = created.body.id;
    await stop();
  }, 60_000);
  afterAll(async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('says how to call it', async () => {
    expect((await rotate([])).code).toBe(2);
    expect((await rotate(['--generate', '--new-key', generateKey()])).code).toBe(2);
    const help = await rotate(['--help']);
    expect(help.code).toBe(0);
    expect(help.printed).toContain('Usage: signoff rotate-key');
  });

  it('is refused while a server holds the data directory (the real command, in a process of its own)', async () => {
    await serve();
    try {
      const cli = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', 'src/cli/main.ts', 'rotate-key', '--generate'],
          {
            cwd: fileURLToPath(new URL('..', import.meta.url)),
            env: { PATH: process.env.PATH ?? '', ...env() },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('exit', (code) => resolve({ code, stderr }));
      });
      expect(cli.code).toBe(1);
      expect(cli.stderr).toMatch(
        /^signoff rotate-key: Another Signoff server \(pid \d+\) is using the data directory/,
      );
    } finally {
      await stop();
    }
    expect(existsSync(`${keyFile()}.new`)).toBe(false);
  });

  it('--generate: prints the new key once, writes it to secret.key, and the server starts with it', async () => {
    const oldKey = readFileSync(keyFile(), 'utf8').trim();
    const rotated = await rotate(['--generate']);
    expect(rotated.code).toBe(0);
    const newKey = /New key \(shown only this once; keep it\): ([0-9a-f]{64})/.exec(rotated.printed)?.[1];
    expect(newKey).toBeDefined();
    expect(newKey).not.toBe(oldKey);
    expect(readFileSync(keyFile(), 'utf8').trim()).toBe(newKey);
    expect(existsSync(`${keyFile()}.new`)).toBe(false);
    expect(rotated.notes).toContain(`the key in use is from ${keyFile()}`);
    expect(rotated.notes).toMatch(/IM app secrets: 5 re-encrypted, 0 already under the new key/);
    expect(rotated.notes).toContain(`The new key is in ${keyFile()}`);
    expect(rotated.notes).not.toContain(newKey!);

    await serve();
    try {
      const tested = await call('POST', `/api/im-apps/${ownApp}/test`);
      expect(tested.body).toMatchObject({ ok: true, error: null });
    } finally {
      await stop();
    }
    // Again with the key now in use: nothing to do, and nothing printed to keep.
    const again = await rotate(['--new-key', newKey!]);
    expect(again.code).toBe(0);
    expect(again.printed).toBe('');
    expect(again.notes).toMatch(/IM app secrets: 0 re-encrypted, 5 already under the new key/);
  });

  it('finishes a rotation interrupted after its commit (the new key file left beside the old one)', async () => {
    const inUse = readFileSync(keyFile(), 'utf8').trim();
    const next = generateKey();
    // What a crash between the commit and the rename leaves: the database under `next`, secret.key old.
    writeFileSync(`${keyFile()}.new`, `${next}\n`);
    expect((await rotate(['--new-key', next], { SIGNOFF_SECRET_KEY: inUse })).code).toBe(0);
    await expect(rotate(['--generate'])).rejects.toThrow(
      /did not finish; finish it with: signoff rotate-key --new-key/,
    );
    const finished = await rotate(['--new-key', next]);
    expect(finished.code).toBe(0);
    expect(finished.notes).toMatch(/IM app secrets: 0 re-encrypted, 5 already under the new key/);
    expect(readFileSync(keyFile(), 'utf8').trim()).toBe(next);
    expect(existsSync(`${keyFile()}.new`)).toBe(false);
  });

  it('with SIGNOFF_SECRET_KEY: leaves the key file alone and says to start with the new key', async () => {
    const inFile = readFileSync(keyFile(), 'utf8').trim();
    const next = generateKey();
    const rotated = await rotate(['--new-key', next], { SIGNOFF_SECRET_KEY: inFile });
    expect(rotated.code).toBe(0);
    expect(rotated.notes).toContain('Start every instance with SIGNOFF_SECRET_KEY set to the new key');
    expect(readFileSync(keyFile(), 'utf8').trim()).toBe(inFile);
    await serve({ SIGNOFF_SECRET_KEY: next });
    try {
      expect((await call('POST', `/api/im-apps/${ownApp}/test`)).body).toMatchObject({ ok: true });
    } finally {
      await stop();
    }
  });
});
