// The runs list, the live run page and the approvals page in a real browser: a shell job's log lines appear
// while it runs, a native approval is decided on the page and the page follows without a reload, the
// DingTalk robot's delivery shows, a DingTalk approval decided in the fake DingTalk shows live, an approval
// is decided from the approvals page, and a waiting run is cancelled. Then the same pages on a phone.
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, waitForRun } from '../stack.js';
import { type ConsoleSession, desktop, hasChromium, openConsole, phone } from './browser.js';

describe.skipIf(!hasChromium)('console: runs, run page and approvals', () => {
  let session: ConsoleSession;
  /** Runs by what the tests did with them, for the phone pass. */
  const runs: Record<string, number> = {};

  beforeAll(async () => {
    session = await openConsole({ viewport: desktop });
    // The sandbox's DingTalk robot, reached over the network at the server's own address, as the README's
    // walkthrough reaches it at localhost:8080.
    const robotUrl = `${session.url}/sandbox/dingtalk/robot/send?access_token=signoff-demo-robot`;
    await createWorkflow(`
name: console-release
params:
  - name: version
    default: "2.4.0"
stages:
  - name: build
    jobs:
      - name: compile
        type: shell
        spec:
          script: |
            echo "compiling part one"
            sleep 1
            echo "careful: a warning on stderr" >&2
            sleep 1
            echo "compiling part two"
            sleep 1
            echo "built {{ params.version }}"
  - name: approve
    jobs:
      - name: go-live
        type: approval
        spec:
          type: native
          approvers: [admin]
          timeout: 2h
          description: "Ship {{ params.version }} to production?"
  - name: tell
    jobs:
      - name: tell-group
        type: notification
        spec:
          channel: dingtalk_robot
          url: "${robotUrl}"
          secret: SECsignoffdemorobotsecret
          title: "Release {{ params.version }}"
          content: "Release {{ params.version }} was approved."
`);
    await createWorkflow(`
name: console-gate
stages:
  - name: gate
    jobs:
      - name: sign-off
        type: approval
        spec:
          type: native
          approvers: [admin]
          timeout: 3h
          description: Open the gate?
`);
    await createWorkflow(`
name: console-dingtalk
stages:
  - name: approve
    jobs:
      - name: ding-approval
        type: approval
        spec:
          type: dingtalk
          app: ima_sandbox_dingtalk
          description: Release to production?
          nodes:
            - type: OR
              approvers: [{ id: zhangwei }, { id: lina }]
`);
    await session.signIn('/');
  });
  afterAll(async () => {
    await session?.close();
  });

  async function createWorkflow(yaml: string): Promise<void> {
    const { status, body } = await session.stack.call('POST', '/api/workflows', yaml);
    expect(status, JSON.stringify(body)).toBe(201);
  }
  async function startRun(workflow: string): Promise<number> {
    const { status, body } = await session.stack.call('POST', '/api/runs', { workflow });
    expect(status, JSON.stringify(body)).toBe(201);
    return body.id;
  }
  async function runStatus(id: number): Promise<string> {
    return (await session.stack.call('GET', `/api/runs/${id}`)).body.status;
  }
  /** Waits for a run to reach a status (the approval is opened a moment after the run starts). */
  const untilStatus = (id: number, status: string) =>
    waitFor(async () => (await runStatus(id)) === status, `run ${id} to be ${status}`);
  const runStatusOnPage = () =>
    session.page
      .getByLabel(/^(Run summary|运行概要)$/)
      .locator('[data-status]')
      .first()
      .getAttribute('data-status');
  /** What the page shows for the run's status, as the user reads it. */
  const runStatusText = () =>
    session.page
      .getByLabel(/^(Run summary|运行概要)$/)
      .locator('.badge')
      .first()
      .textContent();
  const noHorizontalScroll = async () =>
    expect(
      await session.page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'),
      'the page scrolls sideways',
    ).toBe(true);

  it('shows the log lines while the job runs, decides on the page and follows the run without a reload', async () => {
    const { page } = session;
    const id = await startRun('console-release');
    runs.passed = id;
    await page.goto(`/runs/${id}`);
    await page.getByRole('heading', { name: 'console-release #1' }).waitFor();
    // Nothing reloads the page from here on: a mark set now must survive to the end.
    await page.evaluate('window.stillTheSamePage = true');

    const log = page.getByRole('log', { name: 'Log of compile' });
    await log.getByText('compiling part one').waitFor();
    // The first line is there while the job is still running (its last line comes 3 s later).
    // (The job's own item is the innermost of the list items holding its link, so the last.)
    const compile = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('link', { name: 'compile' }) })
      .last();
    expect(await compile.getByText('running', { exact: true }).count()).toBe(1);
    expect(await log.textContent()).not.toContain('built 2.4.0');
    await log.getByText('built 2.4.0').waitFor();
    // The stderr line is marked as such.
    const stderrLine = log.locator('div').filter({ hasText: 'careful: a warning on stderr' });
    expect(await stderrLine.textContent()).toMatch(/^stderr\s*careful/);
    expect(await log.textContent()).toMatch(
      /compiling part one.*careful.*compiling part two.*built 2\.4\.0/s,
    );

    // The approval panel names admin as the approver, waiting.
    const panel = page.getByRole('region', { name: 'Approval: go-live' });
    await panel.getByRole('button', { name: 'Approve' }).waitFor();
    const approvers = panel.getByRole('list', { name: 'Approvers' });
    expect(await approvers.textContent()).toContain('admin');
    expect(await approvers.textContent()).toContain('pending');
    expect(await panel.textContent()).toContain('Ship 2.4.0 to production?');
    expect(await panel.textContent()).toMatch(/Approvals needed\s*1 of 1/);
    expect(await runStatusText()).toBe('waiting for approval');
    await session.screenshot('runs-run-waiting');

    await panel.getByLabel('Comment (optional)').fill('Looks good, ship it');
    await panel.getByRole('button', { name: 'Approve' }).click();
    await waitFor(async () => (await runStatusOnPage()) === 'passed', 'the page to show the run passed');
    expect(await runStatusText()).toBe('passed');
    expect(await approvers.textContent()).toContain('approved');
    expect(await approvers.textContent()).toContain('Looks good, ship it');
    expect(await panel.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    // The robot message went out; its row says delivered.
    const robotRow = page.getByRole('row').filter({ hasText: 'dingtalk_robot' });
    await robotRow.getByText('delivered').waitFor();
    expect(await robotRow.textContent()).toContain('/sandbox/dingtalk/robot/send');
    expect(await page.evaluate('window.stillTheSamePage')).toBe(true);
    expect((await waitForRun(session.stack, id)).status).toBe('passed');
    const dingtalk = session.stack.signoff.sandbox!.find((vendor) => vendor.type === 'dingtalk')!;
    // The fake DingTalk received it (what the group would read).
    expect(dingtalk.messages().map((message) => message.content)).toContainEqual(
      expect.stringContaining('was approved'),
    );
    await session.screenshot('runs-run-passed');
  });

  it('lists approvals waiting with who must decide and the deadline; one is decided right there', async () => {
    const { page } = session;
    const kept = await startRun('console-gate');
    const decided = await startRun('console-gate');
    await untilStatus(kept, 'waiting_for_approval');
    await untilStatus(decided, 'waiting_for_approval');
    await page.getByRole('navigation').getByRole('link', { name: 'Approvals' }).click();
    await page.waitForURL('**/approvals');
    const item = (number: number) =>
      page.getByRole('listitem').filter({ has: page.getByRole('link', { name: `console-gate #${number}` }) });
    await item(1).waitFor();
    await item(2).waitFor();
    const text = await item(1).textContent();
    expect(text).toMatch(/Waiting for\s*admin/);
    expect(text).toMatch(/Deadline.*\(in (2|3) hours\)/);
    expect(text).toContain('Signoff (native)');
    expect(text).toContain('Open the gate?');
    await session.screenshot('runs-approvals');

    await item(2).getByLabel('Comment (optional)').fill('Not today');
    await item(2).getByRole('button', { name: 'Reject' }).click();
    await waitFor(async () => (await item(2).count()) === 0, 'the decided approval to leave the list');
    expect((await waitForRun(session.stack, decided)).status).toBe('rejected');
    expect(await item(1).count()).toBe(1);
    runs.waiting = kept;
  });

  it('shows a DingTalk approval with its platform and approvers, and its decision there live', async () => {
    const { page } = session;
    const id = await startRun('console-dingtalk');
    runs.dingtalk = id;
    await page.goto(`/runs/${id}`);
    const panel = page.getByRole('region', { name: 'Approval: ding-approval' });
    await panel.waitFor();
    expect(await panel.getByRole('img', { name: 'DingTalk 钉钉' }).count()).toBeGreaterThan(0);
    const step = panel.getByRole('list', { name: 'Approvers of step 1' });
    await step.getByText('张伟').waitFor();
    await step.getByText('李娜').waitFor();
    expect(await panel.textContent()).toContain('any one decides (或签)');
    // No decision buttons: this one is decided in DingTalk.
    expect(await panel.getByRole('button', { name: 'Approve' }).count()).toBe(0);

    // The approvals page names the platform and the people it waits for.
    await page.getByRole('navigation').getByRole('link', { name: 'Approvals' }).click();
    const waiting = page
      .getByRole('listitem')
      .filter({ has: page.getByRole('link', { name: 'console-dingtalk #1' }) });
    await waiting.waitFor();
    expect(await waiting.getByRole('img', { name: 'DingTalk 钉钉' }).count()).toBe(1);
    expect(await waiting.textContent()).toMatch(/Waiting for\s*张伟, 李娜/);
    expect(await waiting.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await waiting.getByRole('link', { name: 'console-dingtalk #1' }).click();
    await panel.waitFor();

    const instanceId = await waitFor(async () => {
      const { body } = await session.stack.call('GET', `/api/runs/${id}`);
      return body.stages[0].jobs[0].approval.vendor?.instance_id as string | undefined;
    }, 'the DingTalk instance');
    await panel.getByText(instanceId).waitFor();
    const dingtalk = session.stack.signoff.sandbox!.find((vendor) => vendor.type === 'dingtalk')!;
    await dingtalk.decide(instanceId, 'zhangwei', 'approve', '同意发布');
    const zhangwei = step.getByRole('listitem').filter({ hasText: '张伟' });
    await zhangwei.getByText('同意发布').waitFor();
    expect(await zhangwei.getByText('approved').count()).toBe(1);
    await waitFor(async () => (await runStatusOnPage()) === 'passed', 'the page to show the run passed');
    await session.screenshot('runs-run-dingtalk');
  });

  it('cancels a waiting run from its page after asking', async () => {
    const { page } = session;
    await page.goto('/approvals');
    await page.getByRole('link', { name: 'console-gate #1' }).click();
    await page.waitForURL(`**/runs/${runs.waiting}`);
    await page.getByRole('region', { name: 'Approval: sign-off' }).waitFor();
    await page.getByRole('button', { name: 'Cancel run' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel console-gate #1?' });
    await dialog.waitFor();
    // Saying no changes nothing.
    await dialog.getByRole('button', { name: 'No, keep it going' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await runStatus(runs.waiting!)).toBe('waiting_for_approval');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await dialog.getByRole('button', { name: 'Yes, cancel the run' }).click();
    await waitFor(
      async () => (await runStatusOnPage()) === 'cancelled',
      'the page to show the run cancelled',
    );
    expect(await runStatusText()).toBe('cancelled');
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    expect(await runStatus(runs.waiting!)).toBe('cancelled');
  });

  it('lists the runs, live and filtered by workflow and status', async () => {
    const { page } = session;
    await page.getByRole('navigation').getByRole('link', { name: 'Runs' }).click();
    await page.waitForURL('**/runs');
    const rows = page.getByRole('row');
    const row = (name: string) => rows.filter({ has: page.getByRole('link', { name, exact: true }) });
    await row('console-release #1').waitFor();
    expect(await row('console-release #1').textContent()).toContain('passed');
    expect(await row('console-gate #1').textContent()).toContain('cancelled');
    expect(await row('console-gate #2').textContent()).toContain('rejected');
    expect(await row('console-release #1').textContent()).toContain('admin');

    // A run started now appears without a reload.
    const fresh = await startRun('console-gate');
    runs.fresh = fresh;
    await row('console-gate #3').waitFor();
    await waitFor(
      async () => (await row('console-gate #3').textContent())?.includes('waiting for approval'),
      'the new run to show waiting',
    );
    await session.screenshot('runs-list');

    await page.getByLabel('Workflow').selectOption('console-gate');
    await page.waitForURL(/\/runs\?workflow=console-gate$/);
    // (Each change of filter reads the list anew: wait for the rows that must stay, then look at the rest.)
    await waitFor(async () => (await row('console-release #1').count()) === 0, 'the filter to apply');
    await row('console-gate #1').waitFor();
    expect(await row('console-gate #2').count()).toBe(1);
    await page.getByLabel('Status').selectOption('cancelled');
    await waitFor(async () => (await row('console-gate #2').count()) === 0, 'the status filter to apply');
    await row('console-gate #1').waitFor();
    expect(await row('console-gate #3').count()).toBe(0);
    expect(page.url()).toContain('status=cancelled');
    await page.getByLabel('Workflow').selectOption('console-dingtalk');
    await page.getByText('No runs match these filters.').waitFor();
  });

  it('works on a phone: the same pages, nothing scrolls sideways', async () => {
    const { page } = session;
    await page.setViewportSize(phone);
    const pages: [string, string, () => Locator][] = [
      [`/runs/${runs.fresh}`, 'runs-run-waiting-phone', () => page.getByRole('button', { name: 'Approve' })],
      [
        `/runs/${runs.passed}`,
        'runs-run-passed-phone',
        () => page.getByRole('log', { name: 'Log of compile' }),
      ],
      [`/runs/${runs.dingtalk}`, 'runs-run-dingtalk-phone', () => page.getByText('张伟')],
      ['/runs', 'runs-list-phone', () => page.getByRole('link', { name: 'console-release #1' })],
      ['/approvals', 'runs-approvals-phone', () => page.getByRole('link', { name: 'console-gate #3' })],
    ];
    for (const [path, name, ready] of pages) {
      await page.goto(path);
      await ready().first().waitFor();
      await noHorizontalScroll();
      await session.screenshot(name);
    }
    // Decided from the phone too, in Chinese.
    await page.goto(`/runs/${runs.fresh}`);
    await page.getByLabel('Language').selectOption('zh-CN');
    const panel = page.getByRole('region', { name: '审批：sign-off' });
    await panel.getByLabel('审批意见（可选）').fill('可以');
    await session.screenshot('runs-run-waiting-phone-zh');
    await panel.getByRole('button', { name: '同意' }).click();
    await waitFor(async () => (await runStatusOnPage()) === 'passed', 'the page to show the run passed');
    expect(await runStatusText()).toBe('通过');
    await page.getByLabel('语言').selectOption('en');
    await page.setViewportSize(desktop);
  });
});
