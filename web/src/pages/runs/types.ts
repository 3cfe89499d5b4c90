// What the run, approval and notification endpoints answer (src/api/views.ts, src/api/schemas.ts and
// src/api/routes/notifications.ts), as the console reads it.

export interface RunSummary {
  id: number;
  workflow: string;
  number: number;
  status: string;
  reason: string | null;
  params: Record<string, string>;
  triggered_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Up to the moment the server answered, for a run still going. */
  duration_ms: number | null;
  url: string;
}

export interface Decision {
  user_id: string;
  user_name: string;
  decision: 'approve' | 'reject';
  comment: string | null;
  /** Decided by an admin who is not a listed approver. */
  as_admin: boolean;
  decided_at: string;
}

export interface VendorApprover {
  id: string;
  name: string | null;
  avatar: string | null;
  decision: 'pending' | 'approved' | 'rejected' | 'transferred' | 'waiting';
  comment: string | null;
  decided_at: string | null;
}

export interface VendorNode {
  type: 'AND' | 'OR';
  status: 'pending' | 'approved' | 'rejected' | 'waiting';
  approvers: VendorApprover[];
}

export interface VendorApproval {
  platform: 'feishu' | 'lark' | 'dingtalk' | 'wecom';
  im_app_id: string;
  instance_id: string | null;
  /** The vendor's own status word (PENDING, TERMINATED, 4, …). */
  status: string | null;
  link: string | null;
  status_text: string | null;
  nodes: VendorNode[];
  last_synced_at: string | null;
}

export interface Approval {
  id: number;
  run_id: number;
  workflow: string;
  job: string;
  /** `native`, or the platform the approvers decide in. */
  kind: string;
  status: 'pending' | 'approved' | 'rejected' | 'timeout' | 'cancelled';
  needed: number;
  approvers: { user_id: string; name: string }[];
  decisions: Decision[];
  description: string | null;
  deadline: string;
  timeout_outcome: 'approve' | 'reject';
  created_at: string;
  decided_at: string | null;
  vendor: VendorApproval | null;
}

export interface Job {
  id: number;
  name: string;
  type: string;
  status: string;
  reason: string | null;
  outputs: Record<string, string>;
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  approval?: Approval;
}

export interface Stage {
  name: string;
  status: string;
  jobs: Job[];
}

export interface Run extends RunSummary {
  stages: Stage[];
}

export interface LogChunk {
  id: number;
  job: string;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
  at: string;
}

export interface LogPage {
  chunks: LogChunk[];
  next: number;
  done: boolean;
}

export interface Notification {
  id: number;
  run_id: number;
  job: string | null;
  rule: string;
  event: string;
  action: 'send' | 'update';
  channel: string;
  target: string;
  status: 'pending' | 'sending' | 'delivered' | 'failed' | 'skipped';
  attempts: number;
  last_error: string | null;
  vendor_message_id: string | null;
  created_at: string;
  next_attempt_at: string | null;
  delivered_at: string | null;
}

export interface Me {
  id: string;
  name: string;
  is_admin: boolean;
}
