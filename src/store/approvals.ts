// Waitpoints: one row per approval job waiting for people, and the decisions received so far.
import type { InstanceState, NewInstance } from '../providers/approvals.js';
import type { Queryable } from './db.js';

/** A vendor instance request as last sent, resolved to vendor ids (for reconcile and revoke). */
export type VendorRequest = NewInstance;

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'timeout' | 'cancelled';
export type Decision = 'approve' | 'reject';

export interface Approver {
  user_id: string;
  name: string;
}

export interface ApprovalRecord {
  id: number;
  job_id: number;
  run_id: number;
  kind: string;
  status: ApprovalStatus;
  needed: number;
  approvers: Approver[];
  description: string | null;
  deadline: Date;
  timeout_outcome: 'approve' | 'reject';
  created_at: Date;
  decided_at: Date | null;
  // Vendor approvals only (null for native ones); see store/vendor-approvals.ts.
  im_app_id: string | null;
  vendor_key: string | null;
  vendor_request: VendorRequest | null;
  create_attempted_at: Date | null;
  vendor_instance_id: string | null;
  vendor_status: string | null;
  vendor_state: InstanceState | null;
  vendor_link: string | null;
  status_text: string | null;
  next_poll_at: Date | null;
  polls: number;
  last_synced_at: Date | null;
  remind_at: Date | null;
  reminded_at: Date | null;
}

export type NewApproval = Pick<
  ApprovalRecord,
  'job_id' | 'run_id' | 'kind' | 'needed' | 'approvers' | 'description' | 'deadline' | 'timeout_outcome'
> &
  Partial<Pick<ApprovalRecord, 'im_app_id' | 'vendor_key' | 'remind_at'>>;

export interface DecisionRecord {
  approval_id: number;
  user_id: string;
  user_name: string;
  decision: Decision;
  comment: string | null;
  as_admin: boolean;
  decided_at: Date;
}

export async function insertApproval(db: Queryable, input: NewApproval): Promise<ApprovalRecord> {
  const [row] = await db.query<ApprovalRecord>(
    `insert into approvals (job_id, run_id, kind, status, needed, approvers, description, deadline, timeout_outcome,
       im_app_id, vendor_key, remind_at)
     values ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10, $11) returning *`,
    [
      input.job_id,
      input.run_id,
      input.kind,
      input.needed,
      JSON.stringify(input.approvers),
      input.description,
      input.deadline,
      input.timeout_outcome,
      input.im_app_id ?? null,
      input.vendor_key ?? null,
      input.remind_at ?? null,
    ],
  );
  return row!;
}

export async function lockApproval(db: Queryable, id: number): Promise<ApprovalRecord | undefined> {
  const [row] = await db.query<ApprovalRecord>('select * from approvals where id = $1 for update', [id]);
  return row;
}

export async function findApproval(db: Queryable, id: number): Promise<ApprovalRecord | undefined> {
  const [row] = await db.query<ApprovalRecord>('select * from approvals where id = $1', [id]);
  return row;
}

export async function approvalOfJob(db: Queryable, jobId: number): Promise<ApprovalRecord | undefined> {
  const [row] = await db.query<ApprovalRecord>('select * from approvals where job_id = $1', [jobId]);
  return row;
}

export async function approvalsOfRuns(db: Queryable, runIds: number[]): Promise<ApprovalRecord[]> {
  if (runIds.length === 0) return [];
  return db.query<ApprovalRecord>('select * from approvals where run_id = any($1::int[])', [runIds]);
}

export async function listApprovals(db: Queryable, status?: ApprovalStatus): Promise<ApprovalRecord[]> {
  return status
    ? db.query<ApprovalRecord>('select * from approvals where status = $1 order by deadline', [status])
    : db.query<ApprovalRecord>('select * from approvals order by id desc limit 200');
}

export async function overdueApprovals(db: Queryable, now: Date): Promise<ApprovalRecord[]> {
  return db.query<ApprovalRecord>(
    `select * from approvals where status = 'pending' and deadline <= $1 order by deadline`,
    [now],
  );
}

export async function setApprovalStatus(db: Queryable, id: number, status: ApprovalStatus): Promise<void> {
  await db.query(
    `update approvals set status = $2, decided_at = case when $2 = 'pending' then null else now() end where id = $1`,
    [id, status],
  );
}

/** Returns the approvals it cancelled (vendor ones must then be withdrawn at the vendor). */
export async function cancelPendingApprovals(
  db: Queryable,
  jobIds: number[],
): Promise<Pick<ApprovalRecord, 'id' | 'kind'>[]> {
  if (jobIds.length === 0) return [];
  return db.query<Pick<ApprovalRecord, 'id' | 'kind'>>(
    `update approvals set status = 'cancelled', decided_at = now()
     where job_id = any($1::int[]) and status = 'pending' returning id, kind`,
    [jobIds],
  );
}

/** Returns false when this person had already decided (the primary key says so). */
export async function insertDecision(
  db: Queryable,
  input: Omit<DecisionRecord, 'decided_at'>,
): Promise<boolean> {
  const rows = await db.query(
    `insert into approval_decisions (approval_id, user_id, user_name, decision, comment, as_admin)
     values ($1, $2, $3, $4, $5, $6) on conflict do nothing returning approval_id`,
    [input.approval_id, input.user_id, input.user_name, input.decision, input.comment, input.as_admin],
  );
  return rows.length > 0;
}

export async function decisionsOf(db: Queryable, approvalIds: number[]): Promise<DecisionRecord[]> {
  if (approvalIds.length === 0) return [];
  return db.query<DecisionRecord>(
    'select * from approval_decisions where approval_id = any($1::int[]) order by decided_at',
    [approvalIds],
  );
}
