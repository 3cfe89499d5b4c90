// The workflows pages in a real browser: YAML typed with a mistake shows the problem at its line and
// loses it once fixed; saving lists the workflow; the stages are drawn; the form editor adds a DingTalk
// approval (approvers found by browsing a department and by search) and a Feishu group notification
// (chat picker) into the YAML; Run with a param lands on the new run. Then the same pages on a phone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleSession, hasChromium, openConsole, phone } from './browser.js';

const timeoutMessage = 'timeout must be a duration like 30m, 2h or 1h30m';
// Line 13 holds the mistake: a duration has units written together (5m), not "5 minutes".
const withMistake = `name: release
description: Ship it
params:
  - name: version
    required: true
    description: Version to ship
stages:
  - name: build
    jobs:
      - name: compile
        type: shell
        spec:
          timeout: 5 minutes
          script: echo "building {{ params.version }}"
`;

describe.skipIf(!hasChromium)('console workflows', () => {
  let session: ConsoleSession;
  beforeAll(async () => {
    session = await openConsole();
    await session.signIn('/workflows');
  });
  afterAll(async () => {
    await session?.close();
  });

  /** How far apart, vertically, the middles of two visible elements are (px). */
  const verticalGap = async (a: { boundingBox(): Promise<any> }, b: { boundingBox(): Promise<any> }) => {
    const [first, second] = [await a.boundingBox(), await b.boundingBox()];
    return Math.abs(first.y + first.height / 2 - (second.y + second.height / 2));
  };
  const gutterLine = (line: number) => session.page.getByText(String(line), { exact: true }).first();
  const editor = () => session.page.getByLabel('Workflow YAML');
  const status = () => session.page.getByRole('status').filter({ hasText: /problem|Checking/ });
  const pageIsNoWiderThanTheScreen = async () =>
    expect(await session.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      session.page.viewportSize()!.width,
    );

  it('shows a problem at its line while typing, and drops it once fixed', async () => {
    const { page } = session;
    await page.getByRole('link', { name: 'New workflow' }).click();
    await page.waitForURL('**/workflows/new');
    // The new workflow starts from a commented example that is valid as it is.
    expect(await editor().inputValue()).toContain('# A workflow');
    await expect.poll(() => status().textContent()).toBe('No problems.');

    await editor().fill(withMistake);
    const problemButton = page.getByRole('button', { name: /Line 13, column 20/ });
    await problemButton.waitFor();
    expect(await problemButton.textContent()).toContain(timeoutMessage);
    // The message is drawn on line 13 itself, level with the gutter's 13, which is marked.
    const inline = page.getByText(timeoutMessage).first();
    expect(await verticalGap(inline, gutterLine(13))).toBeLessThan(4);
    const background = (line: number) =>
      // Typed loosely: the test tsconfig has no DOM types.
      gutterLine(line).evaluate(
        (element: any) => (globalThis as any).getComputedStyle(element).backgroundColor,
      );
    expect(await background(13)).not.toBe(await background(12));
    expect(await status().textContent()).toBe('1 problem');
    await session.screenshot('workflows-editor-error');

    // Choosing the problem puts the caret on it; the author fixes the text there.
    await problemButton.click();
    expect(await page.evaluate('document.activeElement?.tagName')).toBe('TEXTAREA');
    await page.keyboard.press('Shift+End');
    await page.keyboard.type('5m');
    expect(await editor().inputValue()).toContain('          timeout: 5m\n');
    await expect.poll(() => status().textContent()).toBe('No problems.');
    expect(await page.getByText(timeoutMessage).count()).toBe(0);
  });

  it('keeps keyboard users free: Tab indents, Escape then Tab moves on', async () => {
    const { page } = session;
    const before = await editor().inputValue();
    await editor().focus();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Tab');
    expect(await editor().inputValue()).toBe(`${before}  `);
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.tagName')).not.toBe('TEXTAREA');
    expect(await editor().inputValue()).toBe(before);
  });

  it('saves, and the list shows the workflow with its stages', async () => {
    const { page } = session;
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL('**/workflows/release');
    await page.getByText('Saved as a new workflow.').waitFor();

    // The drawing follows the text: the stage and its shell job.
    const drawing = page.getByRole('region', { name: 'Stages' });
    await drawing.getByRole('heading', { name: 'build' }).waitFor();
    expect(await drawing.getByText('compile', { exact: true }).count()).toBe(1);
    expect(await drawing.getByRole('img', { name: 'Shell job' }).count()).toBe(1);

    await page.getByRole('navigation').getByRole('link', { name: 'Workflows' }).click();
    await page.waitForURL('**/workflows');
    const item = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: 'release' }) });
    await item.waitFor();
    expect(await item.textContent()).toContain('Ship it');
    expect(await item.getByRole('list', { name: 'Stages of release' }).textContent()).toContain('compile');
    await session.screenshot('workflows-list');
    await page.getByRole('link', { name: 'release' }).click();
    await page.waitForURL('**/workflows/release');
    await editor().waitFor();
  });

  it('adds a DingTalk approval with approvers found by browsing and by search', async () => {
    const { page } = session;
    await page.getByRole('button', { name: 'Add approval job' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an approval job' });
    await dialog.waitFor();
    expect(await dialog.getByLabel('New stage name').inputValue()).toBe('approve');
    await dialog.getByLabel('Job name').fill('go-live');
    await dialog.getByRole('radio', { name: 'DingTalk' }).check();
    await dialog.getByLabel('IM app').selectOption('ima_sandbox_dingtalk');
    // The picker says whose address book this is, and its limits.
    await dialog.getByText(/address-book scope \(通讯录权限范围\)/).waitFor();

    // Browse: the top department, then 研发部, where 张伟 works.
    await dialog.getByRole('button', { name: 'Open department 研发部' }).click();
    await dialog.getByRole('checkbox', { name: /张伟/ }).check();
    // Search: 陈静 of 运维部, by name.
    await dialog.getByRole('button', { name: 'Search', exact: true }).click();
    await dialog.getByLabel('Search people').fill('陈静');
    await dialog.getByLabel('Search people').press('Enter');
    await dialog.getByRole('checkbox', { name: /陈静/ }).check();
    const chosen = dialog.getByRole('list', { name: 'Chosen' });
    expect(await chosen.getByRole('listitem').count()).toBe(2);
    await chosen.getByRole('button', { name: 'Remove 张伟' }).waitFor();
    await chosen.getByRole('button', { name: 'Remove 陈静' }).waitFor();
    await session.screenshot('workflows-form-picker');

    // Nobody matching is explained by the app's scope, not left blank.
    await dialog.getByLabel('Search people').fill('nobody-like-this');
    await dialog.getByLabel('Search people').press('Enter');
    await dialog
      .getByText(/Nobody matches “nobody-like-this”. If someone is missing, widen the scope/)
      .waitFor();

    await dialog.getByRole('radio', { name: /The first to decide/ }).check();
    await dialog.getByRole('button', { name: 'Add to the YAML' }).click();
    await dialog.waitFor({ state: 'detached' });

    const yaml = await editor().inputValue();
    expect(yaml).toContain(
      [
        '  - name: approve',
        '    jobs:',
        '      - name: go-live',
        '        type: approval',
        '        spec:',
        '          type: dingtalk',
        '          app: sandbox-dingtalk',
        '          nodes:',
        '            - type: OR',
        '              approvers:',
        '                - id: zhangwei # 张伟',
        '                - id: chenjing # 陈静',
      ].join('\n'),
    );
    // The rest of the document, and its line of text, is as it was.
    expect(yaml.startsWith('name: release\ndescription: Ship it\n')).toBe(true);
    await page.getByText(/Added job “go-live” at line 17/).waitFor();
    await expect.poll(() => status().textContent()).toBe('No problems.');
    const drawing = page.getByRole('region', { name: 'Stages' });
    // The job's own item (inside its stage's item).
    const approvalJob = drawing.getByRole('listitem').filter({ hasText: 'go-live' }).last();
    expect(await approvalJob.getByRole('img', { name: 'DingTalk 钉钉' }).count()).toBe(1);
    expect(await approvalJob.textContent()).toContain('2 approvers');

    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved (version 2).').waitFor();
  });

  it('adds a Feishu group notification with the chat picker', async () => {
    const { page } = session;
    await page.getByRole('button', { name: 'Add notification job' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a notification job' });
    await dialog.getByLabel('Job name').fill('tell-deploys');
    expect(await dialog.getByLabel('Channel').inputValue()).toBe('feishu_app');
    await dialog.getByLabel('IM app').selectOption('ima_sandbox_feishu');
    await dialog.getByLabel('Search chats').fill('deploys');
    const chat = dialog.getByRole('radio', { name: /发布通知 Deploys/ });
    await chat.check();
    // Only the groups the bot is in are offered: "闲聊 Random" is not one.
    await dialog.getByLabel('Search chats').fill('random');
    await dialog.getByText('No group the bot is in matches “random”.').waitFor();
    await dialog.getByRole('button', { name: 'Add to the YAML' }).click();
    await dialog.waitFor({ state: 'detached' });

    const yaml = await editor().inputValue();
    expect(yaml).toMatch(
      /- name: notify\n {4}jobs:\n {6}- name: tell-deploys\n {8}type: notification\n {8}spec:\n {10}channel: feishu_app\n {10}app: sandbox-feishu\n {10}chat: oc_[0-9a-f]+ # 发布通知 Deploys\n/,
    );
    await expect.poll(() => status().textContent()).toBe('No problems.');
    const drawing = page.getByRole('region', { name: 'Stages' });
    expect(
      await drawing.getByRole('listitem').filter({ hasText: 'tell-deploys' }).last().textContent(),
    ).toContain('Feishu app bot');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved (version 3).').waitFor();
    const saved = await session.stack.call('GET', '/api/workflows/release');
    expect(saved.body.stages.map((stage: { name: string }) => stage.name)).toEqual([
      'build',
      'approve',
      'notify',
    ]);
  });

  it('runs with a param and lands on the run', async () => {
    const { page } = session;
    await page.getByRole('button', { name: 'Run…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Run release' });
    await dialog.getByLabel(/^version/).fill('1.4.0');
    await dialog.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/\d+$/);
    const id = new URL(page.url()).pathname.split('/').at(-1);
    const run = await session.stack.call('GET', `/api/runs/${id}`);
    expect(run.status).toBe(200);
    expect(run.body.workflow).toBe('release');
    expect(run.body.params).toEqual({ version: '1.4.0' });
  });

  it('never replaces a workflow of the same name without asking', async () => {
    const { page } = session;
    await page.goto('/workflows/new');
    await editor().fill(
      'name: release\nstages:\n  - name: only\n    jobs:\n      - name: hello\n        type: shell\n        spec:\n          script: echo hi\n',
    );
    await expect.poll(() => status().textContent()).toBe('No problems.');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'A workflow named “release” already exists.' });
    await alert.waitFor();
    expect(await alert.getByRole('link', { name: 'Open it' }).getAttribute('href')).toBe(
      '/workflows/release',
    );
    expect(new URL(page.url()).pathname).toBe('/workflows/new');
    expect((await session.stack.call('GET', '/api/workflows/release')).body.version).toBe(3);
  });

  it('works on a phone: the problem at its line, the picker, no sideways scrolling', async () => {
    const { page } = session;
    await page.setViewportSize(phone);
    await page.goto('/workflows');
    await page.getByRole('link', { name: 'release' }).waitFor();
    await pageIsNoWiderThanTheScreen();
    await session.screenshot('workflows-list-phone');

    await page.getByRole('link', { name: 'release' }).click();
    const yaml = await editor().inputValue();
    await editor().fill(yaml.replace('timeout: 5m', 'timeout: 5 minutes'));
    await page.getByRole('button', { name: /Line 13, column 20/ }).waitFor();
    // No room after the text on a phone: the message sits right under line 13, within the screen.
    const message = await page.getByText(timeoutMessage).first().boundingBox();
    const line13 = await gutterLine(13).boundingBox();
    expect(Math.abs(message!.y - (line13!.y + line13!.height))).toBeLessThan(4);
    expect(message!.x + message!.width).toBeLessThanOrEqual(phone.width);
    await pageIsNoWiderThanTheScreen();
    await session.screenshot('workflows-editor-error-phone');

    await page.getByRole('button', { name: 'Add approval job' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an approval job' });
    await dialog.getByRole('radio', { name: 'DingTalk' }).check();
    await dialog.getByRole('button', { name: 'Open department 研发部' }).click();
    await dialog.getByRole('checkbox', { name: /张伟/ }).check();
    await pageIsNoWiderThanTheScreen();
    await session.screenshot('workflows-form-picker-phone');
  });
});
