// The start page: where things stand, and the three steps from nothing to a run through an approval.
import { api } from '../api';
import { Page } from '../components/page';
import { StatusBadge } from '../components/status-badge';
import { defineStrings, useFormat, useT } from '../i18n';
import { usePoll } from '../poll';
import { Link } from '../router';
import { useSandbox } from '../sandbox-context';

const strings = defineStrings({
  en: {
    title: 'Start',
    step1: '1. Connect an IM app',
    step1Text:
      'Register your Feishu, Lark, DingTalk or WeCom app: its credentials, then the callback URL in the vendor console.',
    step1Sandbox: 'The sandbox has registered one app per platform already.',
    step2: '2. Write a workflow',
    step2Text:
      'Stages of shell, approval and notification jobs; the form editor picks approvers from the address book.',
    step3: '3. Run it',
    step3Text: 'Approvers decide in their IM approval app or here; the run goes on the moment they do.',
    step3Sandbox: 'In the sandbox, act as the fake approvers in the Sandbox inbox.',
    apps: 'IM apps: {count}',
    flows: 'Workflows: {count}',
    waiting: 'Approvals waiting: {count}',
    recent: 'Recent runs',
    noRuns: 'No runs yet.',
    open: 'Open',
  },
  'zh-CN': {
    title: '开始',
    step1: '1. 接入 IM 应用',
    step1Text: '登记飞书、Lark、钉钉或企业微信应用的凭证，再把回调地址填入开放平台后台。',
    step1Sandbox: '沙箱已为每个平台登记了一个应用。',
    step2: '2. 编写工作流',
    step2Text: '由 Shell、审批和通知任务组成的阶段；表单编辑器可从通讯录选择审批人。',
    step3: '3. 运行',
    step3Text: '审批人在 IM 的审批应用或这里做出决定，运行随即继续。',
    step3Sandbox: '在沙箱中，可在“沙箱”收件箱里扮演模拟审批人。',
    apps: 'IM 应用：{count}',
    flows: '工作流：{count}',
    waiting: '待审批：{count}',
    recent: '最近运行',
    noRuns: '还没有运行记录。',
    open: '打开',
  },
});

interface Overview {
  apps: number;
  workflows: number;
  waiting: number;
  runs: { id: number; workflow: string; number: number; status: string; created_at: string }[];
}

const load = async (): Promise<Overview> => {
  const [apps, workflows, approvals, runs] = await Promise.all([
    api<{ im_apps: unknown[] }>('/api/im-apps'),
    api<{ workflows: unknown[] }>('/api/workflows'),
    api<{ approvals: unknown[] }>('/api/approvals'),
    api<{ runs: Overview['runs'] }>('/api/runs?limit=5'),
  ]);
  return {
    apps: apps.im_apps.length,
    workflows: workflows.workflows.length,
    waiting: approvals.approvals.length,
    runs: runs.runs,
  };
};

export function HomePage() {
  const t = useT(strings);
  const format = useFormat();
  const sandbox = useSandbox();
  const { data } = usePoll(load, [], { live: true, intervalMs: 3000 });
  return (
    <Page title={t('title')}>
      <div className="steps">
        <Link href="/settings/im" className="card step">
          <h2>{t('step1')}</h2>
          <p>{t('step1Text')}</p>
          {sandbox && <p className="hint">{t('step1Sandbox')}</p>}
          {data && <p className="figure">{t('apps', { count: data.apps })}</p>}
        </Link>
        <Link href="/workflows" className="card step">
          <h2>{t('step2')}</h2>
          <p>{t('step2Text')}</p>
          {data && <p className="figure">{t('flows', { count: data.workflows })}</p>}
        </Link>
        <Link href="/approvals" className="card step">
          <h2>{t('step3')}</h2>
          <p>{t('step3Text')}</p>
          {sandbox && <p className="hint">{t('step3Sandbox')}</p>}
          {data && <p className="figure">{t('waiting', { count: data.waiting })}</p>}
        </Link>
      </div>
      <h2>{t('recent')}</h2>
      {data && data.runs.length === 0 && <p>{t('noRuns')}</p>}
      <ul className="plain-list">
        {data?.runs.map((run) => (
          <li key={run.id}>
            <Link href={`/runs/${run.id}`}>
              {run.workflow} #{run.number}
            </Link>{' '}
            <StatusBadge status={run.status} /> <small>{format.ago(run.created_at)}</small>
          </li>
        ))}
      </ul>
    </Page>
  );
}
