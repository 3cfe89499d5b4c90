// The form editor: an approval or notification job put together with pickers instead of typed ids, then
// written into the YAML (comments and the rest of the document kept), where the usual checks run.
import { type FormEvent, useState } from 'react';
import { api } from '../../api';
import { ErrorNotice } from '../../components/error-notice';
import { defineStrings, useT } from '../../i18n';
import { usePoll } from '../../poll';
import { ApprovalFields } from './approval-fields';
import {
  type ApprovalDraft,
  approvalJob,
  type DraftProblem,
  type NotificationDraft,
  notificationJob,
} from './build-job';
import { appChannels } from './channels';
import { Modal } from './modal';
import { NotificationFields } from './notification-fields';
import type { ImApp } from './types';
import { addJob, DocumentNotReadable, documentNames } from './yaml-document';

const strings = defineStrings({
  en: {
    approvalTitle: 'Add an approval job',
    notificationTitle: 'Add a notification job',
    stage: 'Stage',
    newStage: 'A new stage at the end',
    newStageName: 'New stage name',
    jobName: 'Job name',
    nameHelp: 'a-z, 0-9, _ and -; unique in the whole workflow.',
    add: 'Add to the YAML',
    cancel: 'Cancel',
    loadingApps: 'Loading IM apps…',
    fix: 'Check these first:',
    unreadable: 'The YAML cannot be read right now ({reason}). Fix it, then add the job.',
    badJobName:
      'The job name must be 1 to 63 characters of a-z, 0-9, _ and -, starting with a letter or digit.',
    takenJobName: 'A job named “{name}” already exists; job names are unique in the whole workflow.',
    badStageName:
      'The stage name must be 1 to 63 characters of a-z, 0-9, _ and -, starting with a letter or digit.',
    takenStageName: 'A stage named “{name}” already exists; choose it in the list instead.',
    noApp: 'Choose an IM app (register one under IM apps first).',
    noApprovers: 'Choose at least one approver.',
    neededRange: 'Approvals needed must be between 1 and the number of approvers.',
    badTimeout: 'Write the timeout as a duration, e.g. 30m, 2h or 1d.',
    noChat: 'Choose the group chat.',
    noPeople: 'Choose at least one recipient.',
    noUrl: 'Give the webhook URL (or {{ secrets.<name> }}).',
    noMail: 'Give at least one email address.',
  },
  'zh-CN': {
    approvalTitle: '添加审批任务',
    notificationTitle: '添加通知任务',
    stage: '阶段',
    newStage: '在末尾新建阶段',
    newStageName: '新阶段名称',
    jobName: '任务名称',
    nameHelp: 'a-z、0-9、_ 和 -；在整个工作流中唯一。',
    add: '写入 YAML',
    cancel: '取消',
    loadingApps: '正在加载 IM 应用…',
    fix: '请先处理：',
    unreadable: '当前 YAML 无法解析（{reason}）。请先修正，再添加任务。',
    badJobName: '任务名称须为 1 到 63 个字符（a-z、0-9、_ 和 -），以字母或数字开头。',
    takenJobName: '已有名为“{name}”的任务；任务名称在整个工作流中必须唯一。',
    badStageName: '阶段名称须为 1 到 63 个字符（a-z、0-9、_ 和 -），以字母或数字开头。',
    takenStageName: '已有名为“{name}”的阶段，请在列表中选择它。',
    noApp: '请选择 IM 应用（需先在 IM 应用中登记）。',
    noApprovers: '请至少选择一位审批人。',
    neededRange: '需要同意的人数须在 1 到审批人数之间。',
    badTimeout: '超时时间请写成时长，例如 30m、2h 或 1d。',
    noChat: '请选择群聊。',
    noPeople: '请至少选择一位接收人。',
    noUrl: '请填写 Webhook 地址（或 {{ secrets.<名称> }}）。',
    noMail: '请至少填写一个邮箱地址。',
  },
});

const namePattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const newStage = '\u0000new';

export type JobKind = 'approval' | 'notification';

export function JobFormDialog({
  kind,
  source,
  onAdded,
  onClose,
}: {
  kind: JobKind;
  source: string;
  onAdded: (source: string, line: number, jobName: string) => void;
  onClose: () => void;
}) {
  const t = useT(strings);
  const existing = documentNames(source);
  const suggested = kind === 'approval' ? 'approve' : 'notify';
  const [stage, setStage] = useState(existing.stages.includes(suggested) ? suggested : newStage);
  const [stageName, setStageName] = useState(existing.stages.includes(suggested) ? '' : suggested);
  const [jobName, setJobName] = useState('');
  const [problems, setProblems] = useState<string[]>([]);
  const { data, error } = usePoll((signal) => api<{ im_apps: ImApp[] }>('/api/im-apps', { signal }), []);
  const apps = data?.im_apps ?? [];

  const [approval, setApproval] = useState<ApprovalDraft>({
    kind: 'native',
    app: undefined,
    approvers: [],
    mode: 'AND',
    needed: 1,
    timeout: '1h',
    timeoutOutcome: 'reject',
    title: '',
    description: '',
  });
  const [notification, setNotification] = useState<NotificationDraft>({
    channel: 'feishu_app',
    app: undefined,
    chat: undefined,
    people: [],
    url: '',
    secret: '',
    mailTo: '',
    title: '',
    content: '',
  });
  // Until the user picks one, the first registered app of the platform is the choice (the apps arrive
  // after the form opens).
  const firstApp = (type: string | undefined) => apps.find((app) => app.type === type);
  const approvalDraft = { ...approval, app: approval.app ?? firstApp(approval.kind) };
  const notificationDraft = {
    ...notification,
    app: notification.app ?? firstApp(appChannels[notification.channel]),
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: string[] = [];
    const name = jobName.trim();
    if (!namePattern.test(name)) found.push(t('badJobName'));
    else if (existing.jobs.includes(name)) found.push(t('takenJobName', { name }));
    const targetStage = stage === newStage ? stageName.trim() : stage;
    if (stage === newStage) {
      if (!namePattern.test(targetStage)) found.push(t('badStageName'));
      else if (existing.stages.includes(targetStage)) found.push(t('takenStageName', { name: targetStage }));
    }
    const built =
      kind === 'approval' ? approvalJob(name, approvalDraft) : notificationJob(name, notificationDraft);
    found.push(...built.problems.map((problem: DraftProblem) => t(problem)));
    if (found.length > 0) {
      setProblems(found);
      return;
    }
    try {
      const added = addJob(source, targetStage, built.job, built.names);
      onAdded(added.source, added.line, name);
    } catch (caught) {
      if (!(caught instanceof DocumentNotReadable)) throw caught;
      setProblems([t('unreadable', { reason: caught.message })]);
    }
  };

  return (
    <Modal title={kind === 'approval' ? t('approvalTitle') : t('notificationTitle')} onClose={onClose}>
      <form className="wf-job-form" onSubmit={submit} noValidate>
        <div className="wf-form-row">
          <label className="field">
            <span>{t('stage')}</span>
            <select value={stage} onChange={(event) => setStage(event.target.value)}>
              {existing.stages.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
              <option value={newStage}>{t('newStage')}</option>
            </select>
          </label>
          {stage === newStage && (
            <label className="field">
              <span>{t('newStageName')}</span>
              <input value={stageName} onChange={(event) => setStageName(event.target.value)} />
            </label>
          )}
        </div>
        <label className="field">
          <span>{t('jobName')}</span>
          <input value={jobName} onChange={(event) => setJobName(event.target.value)} autoComplete="off" />
          <small>{t('nameHelp')}</small>
        </label>

        <ErrorNotice error={error} />
        {!data && !error && <p className="hint">{t('loadingApps')}</p>}
        {kind === 'approval' ? (
          <ApprovalFields draft={approvalDraft} setDraft={setApproval} apps={apps} />
        ) : (
          <NotificationFields draft={notificationDraft} setDraft={setNotification} apps={apps} />
        )}

        {problems.length > 0 && (
          <div className="notice notice-error" role="alert">
            <strong>{t('fix')}</strong>
            <ul>
              {problems.map((problem) => (
                <li key={problem}>{problem}</li>
              ))}
            </ul>
          </div>
        )}
        <div className="wf-dialog-actions">
          <button type="submit" className="button-primary">
            {t('add')}
          </button>
          <button type="button" onClick={onClose}>
            {t('cancel')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
