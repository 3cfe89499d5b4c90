// What a notification says, independent of where it goes. The notifier takes this snapshot of the run
// inside the transaction that changed the run (so a late delivery still tells what happened then), the
// outbox stores it, and at send time a renderer turns it into one platform's payload (card, markdown,
// mail). Every string in it is data: renderers escape it for their format.
import type { JobStatus, RunStatus } from '../engine/status.js';

/** What a rule can be triggered by (`on:`). */
export const notifyEvents = [
  'created',
  'running',
  'wait_for_approval',
  'passed',
  'failed',
  'rejected',
  'timeout',
  'cancelled',
  'changed',
] as const;
export type NotifyEvent = (typeof notifyEvents)[number];

/** Why a message is sent: a rule's event, or a notification job (which always sends). */
export type MessageReason = NotifyEvent | 'notification' | 'decided';

export const languages = ['zh-CN', 'en'] as const;
export type Language = (typeof languages)[number];

/** The formats renderers escape for. */
export type TextFormat = 'feishu_md' | 'dingtalk_md' | 'wecom_md' | 'html' | 'plain';

export interface MessageJob {
  name: string;
  stage: string;
  /** shell | approval | notification */
  type: string;
  status: JobStatus;
  duration_ms: number | null;
  reason: string | null;
}

export interface MessageApprover {
  name: string;
  decision: 'pending' | 'approved' | 'rejected' | 'transferred' | 'waiting';
  comment: string | null;
  decided_at: string | null;
}

export interface MessageApprovalNode {
  type: 'AND' | 'OR';
  status: 'pending' | 'approved' | 'rejected' | 'waiting';
  approvers: MessageApprover[];
}

export interface MessageApproval {
  job: string;
  /** Where it is decided: `native` (Signoff) or the IM platform. */
  platform: 'native' | 'feishu' | 'lark' | 'dingtalk' | 'wecom';
  status: 'pending' | 'approved' | 'rejected' | 'timeout' | 'cancelled';
  /** Names of the people who still have to decide (empty once decided). */
  waiting_for: string[];
  /** ISO 8601. */
  deadline: string | null;
  nodes: MessageApprovalNode[];
  /** Where to open it in the IM app, when the vendor offers a link. */
  vendor_link: string | null;
}

export interface NotificationMessage {
  reason: MessageReason;
  /**
   * The status the message reports: the run's, or for a job-level rule the job's. For `changed` the new
   * outcome (and `previous` the outcome of the run before).
   */
  status: RunStatus | JobStatus;
  previous?: RunStatus | null;
  language: Language;
  workflow: string;
  run: {
    id: number;
    number: number;
    url: string;
    triggered_by: string | null;
    /** ISO 8601. */
    created_at: string;
    finished_at: string | null;
    duration_ms: number | null;
    reason: string | null;
    params: Record<string, string>;
  };
  stages: Array<{ name: string; jobs: MessageJob[] }>;
  /** For job-level rules and notification jobs: the job the message is about. */
  job?: MessageJob;
  /** For approval messages (waiting, decided): the approval and who must decide. */
  approval?: MessageApproval;
  /** The author's `title` / `content` (Liquid), already rendered with values escaped for `format`. */
  custom?: { title: string | null; content: string | null; format: TextFormat };
}

/** People to @mention, as the platform names them once resolved (open_id, userid, mobile). */
export interface Mentions {
  ids: string[];
  mobiles: string[];
  all: boolean;
}

export const noMentions: Mentions = { ids: [], mobiles: [], all: false };
