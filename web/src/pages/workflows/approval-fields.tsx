// The approval part of the form editor: where approvers decide, through which IM app, who, how many, and
// for how long.
import { PlatformIcon } from '../../components/platform-icon';
import { defineStrings, useT } from '../../i18n';
import type { ApprovalDraft } from './build-job';
import { type ApprovalKind, approvalKinds, channelStrings } from './channels';
import { ImAppField } from './im-app-field';
import { InputField } from './input-field';
import { ApproverPicker } from './pickers/approver-picker';
import type { ImApp } from './types';

export const approvalStrings = defineStrings({
  en: {
    kind: 'Where approvers decide',
    kindHelpNative: 'In Signoff: the console, the CLI or the API.',
    kindHelpVendor: "In the platform's own approval app, on their phones.",
    approvers: 'Approvers',
    mode: 'Who must approve',
    and: 'Everyone (会签, AND)',
    or: 'The first to decide (或签, OR)',
    needed: 'Approvals needed',
    neededHelp: 'From 1 to the number of approvers; one rejection rejects the job.',
    timeout: 'Timeout',
    timeoutHelp: 'From 1m to 30d, e.g. 30m, 2h, 1d.',
    outcome: 'When the timeout passes',
    reject: 'Reject',
    approve: 'Approve',
    title: 'Title (optional)',
    titleHelp: 'Default: “<workflow> #<run>: <job>”. A template: {{ params.version }} works.',
    description: 'What the approvers are asked (optional)',
  },
  'zh-CN': {
    kind: '在哪里审批',
    kindHelpNative: '在 Signoff 中审批：控制台、命令行或 API。',
    kindHelpVendor: '在平台自己的审批应用中审批，手机上即可处理。',
    approvers: '审批人',
    mode: '审批方式',
    and: '所有人同意（会签，AND）',
    or: '一人处理即可（或签，OR）',
    needed: '需要同意的人数',
    neededHelp: '1 到审批人数之间；任意一人拒绝即拒绝。',
    timeout: '超时时间',
    timeoutHelp: '1m 到 30d，例如 30m、2h、1d。',
    outcome: '超时后',
    reject: '拒绝',
    approve: '通过',
    title: '标题（可选）',
    titleHelp: '默认：“<工作流> #<运行编号>: <任务>”。支持模板，如 {{ params.version }}。',
    description: '审批说明（可选）',
  },
});

export function ApprovalFields({
  draft,
  setDraft,
  apps,
}: {
  draft: ApprovalDraft;
  setDraft: (draft: ApprovalDraft) => void;
  apps: ImApp[];
}) {
  const t = useT(approvalStrings);
  const kinds = useT(channelStrings);
  // The app goes back to "the first of this platform" (the form fills it in).
  const chooseKind = (kind: ApprovalKind) =>
    setDraft({ ...draft, kind, app: undefined, approvers: [], needed: 1 });

  return (
    <>
      <fieldset className="wf-choice">
        <legend>{t('kind')}</legend>
        <div className="wf-choice-options">
          {approvalKinds.map((kind) => (
            <label key={kind} className="wf-choice-option">
              <input
                type="radio"
                name="approval-kind"
                value={kind}
                checked={draft.kind === kind}
                onChange={() => chooseKind(kind)}
              />
              {kind !== 'native' && (
                <span aria-hidden="true">
                  <PlatformIcon platform={kind} size={18} />
                </span>
              )}
              <span>{kinds(kind)}</span>
            </label>
          ))}
        </div>
        <small className="help">{draft.kind === 'native' ? t('kindHelpNative') : t('kindHelpVendor')}</small>
      </fieldset>

      {draft.kind !== 'native' && (
        <ImAppField
          platform={draft.kind}
          apps={apps}
          value={draft.app}
          onChange={(app) => setDraft({ ...draft, app, approvers: [] })}
        />
      )}

      {(draft.kind === 'native' || draft.app) && (
        <ApproverPicker
          key={draft.app?.id ?? 'native'}
          app={draft.kind === 'native' ? undefined : draft.app}
          legend={t('approvers')}
          value={draft.approvers}
          onChange={(approvers) =>
            setDraft({
              ...draft,
              approvers,
              needed: Math.min(Math.max(draft.needed, 1), Math.max(approvers.length, 1)),
            })
          }
        />
      )}

      {draft.kind === 'native' ? (
        <label className="field">
          <span>{t('needed')}</span>
          <input
            type="number"
            min={1}
            max={Math.max(draft.approvers.length, 1)}
            value={draft.needed}
            onChange={(event) => setDraft({ ...draft, needed: Number(event.target.value) })}
          />
          <small>{t('neededHelp')}</small>
        </label>
      ) : (
        <fieldset className="wf-choice">
          <legend>{t('mode')}</legend>
          <div className="wf-choice-options">
            {(['AND', 'OR'] as const).map((mode) => (
              <label key={mode} className="wf-choice-option">
                <input
                  type="radio"
                  name="approval-mode"
                  checked={draft.mode === mode}
                  onChange={() => setDraft({ ...draft, mode })}
                />
                <span>{mode === 'AND' ? t('and') : t('or')}</span>
              </label>
            ))}
          </div>
        </fieldset>
      )}

      <div className="wf-form-row">
        <InputField
          label={t('timeout')}
          value={draft.timeout}
          onChange={(timeout) => setDraft({ ...draft, timeout })}
          help={t('timeoutHelp')}
        />
        <label className="field">
          <span>{t('outcome')}</span>
          <select
            value={draft.timeoutOutcome}
            onChange={(event) =>
              setDraft({ ...draft, timeoutOutcome: event.target.value as 'reject' | 'approve' })
            }
          >
            <option value="reject">{t('reject')}</option>
            <option value="approve">{t('approve')}</option>
          </select>
        </label>
      </div>

      {draft.kind !== 'native' && (
        <InputField
          label={t('title')}
          value={draft.title}
          onChange={(title) => setDraft({ ...draft, title })}
          help={t('titleHelp')}
        />
      )}
      <InputField
        label={t('description')}
        value={draft.description}
        onChange={(description) => setDraft({ ...draft, description })}
      />
    </>
  );
}
