// The form editor's choices turned into a job as the workflow spec writes it (src/engine/workflow-spec.ts),
// with the problems a user can fix in the form before the job goes into the YAML.
import type { ApprovalKind, Channel } from './channels';
import type { ImApp, ImChat, PickedPerson } from './types';

export interface ApprovalDraft {
  kind: ApprovalKind;
  app: ImApp | undefined;
  approvers: PickedPerson[];
  /** Vendor approvals: AND = everyone approves (会签), OR = the first decision counts (或签). */
  mode: 'AND' | 'OR';
  /** Native approvals: how many approvals pass the job. */
  needed: number;
  timeout: string;
  timeoutOutcome: 'reject' | 'approve';
  title: string;
  description: string;
}

export interface NotificationDraft {
  channel: Channel;
  app: ImApp | undefined;
  chat: ImChat | undefined;
  people: PickedPerson[];
  url: string;
  secret: string;
  mailTo: string;
  title: string;
  content: string;
}

/** A problem, as a key of the form's strings. */
export type DraftProblem =
  | 'noApp'
  | 'noApprovers'
  | 'neededRange'
  | 'badTimeout'
  | 'noChat'
  | 'noPeople'
  | 'noUrl'
  | 'noMail';

export interface BuiltJob {
  job: Record<string, unknown>;
  /** Ids to name in comments beside them. */
  names: Record<string, string>;
  problems: DraftProblem[];
}

// docs/workflow.md, Durations: 45s, 30m, 2h, 1h30m, 1d; a bare number is minutes for approvals.
const durationPattern = /^(\d+|(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?)$/;
const namesOf = (people: PickedPerson[]) =>
  Object.fromEntries(people.map((person) => [person.id, person.name]));
const optional = (fields: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(fields)
      .filter(([, value]) => value.trim() !== '')
      .map(([k, v]) => [k, v.trim()]),
  );

export function approvalJob(name: string, draft: ApprovalDraft): BuiltJob {
  const problems: DraftProblem[] = [];
  if (draft.kind !== 'native' && !draft.app) problems.push('noApp');
  if (draft.approvers.length === 0) problems.push('noApprovers');
  const timeout = draft.timeout.trim();
  if (!timeout || !durationPattern.test(timeout)) problems.push('badTimeout');

  let spec: Record<string, unknown>;
  if (draft.kind === 'native') {
    if (draft.approvers.length > 0 && (draft.needed < 1 || draft.needed > draft.approvers.length))
      problems.push('neededRange');
    spec = {
      type: 'native',
      approvers: draft.approvers.map((person) => person.id),
      needed_approvers: draft.needed,
      timeout,
      timeout_outcome: draft.timeoutOutcome,
      ...optional({ description: draft.description }),
    };
  } else {
    spec = {
      type: draft.kind,
      app: draft.app?.name ?? '',
      ...optional({ title: draft.title, description: draft.description }),
      nodes: [{ type: draft.mode, approvers: draft.approvers.map((person) => ({ id: person.id })) }],
      timeout,
      timeout_outcome: draft.timeoutOutcome,
    };
  }
  return { job: { name, type: 'approval', spec }, names: namesOf(draft.approvers), problems };
}

export function notificationJob(name: string, draft: NotificationDraft): BuiltJob {
  const problems: DraftProblem[] = [];
  const message = optional({ title: draft.title, content: draft.content });
  let spec: Record<string, unknown>;
  let names: Record<string, string> = {};
  switch (draft.channel) {
    case 'feishu_app':
    case 'lark_app':
      if (!draft.app) problems.push('noApp');
      if (!draft.chat) problems.push('noChat');
      spec = { channel: draft.channel, app: draft.app?.name ?? '', chat: draft.chat?.id ?? '', ...message };
      if (draft.chat) names = { [draft.chat.id]: draft.chat.name };
      break;
    case 'dingtalk_app':
    case 'wecom_app':
      if (!draft.app) problems.push('noApp');
      if (draft.people.length === 0) problems.push('noPeople');
      spec = {
        channel: draft.channel,
        app: draft.app?.name ?? '',
        to: draft.people.map((person) => ({ id: person.id })),
        ...message,
      };
      names = namesOf(draft.people);
      break;
    case 'mail': {
      const to = draft.mailTo
        .split(/[\s,;]+/)
        .map((address) => address.trim())
        .filter(Boolean);
      if (to.length === 0) problems.push('noMail');
      spec = { channel: 'mail', to, ...message };
      break;
    }
    default:
      if (!draft.url.trim()) problems.push('noUrl');
      spec = {
        channel: draft.channel,
        url: draft.url.trim(),
        // WeCom group robots have no signing secret.
        ...(draft.channel === 'wecom_robot' ? {} : optional({ secret: draft.secret })),
        ...message,
      };
  }
  return { job: { name, type: 'notification', spec }, names, problems };
}
