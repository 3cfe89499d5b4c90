// Request and response shapes of the REST API. They validate requests and generate /api/openapi.json.
import { z } from '@hono/zod-openapi';
import { jobStatuses, runStatuses } from '../engine/status.js';

const timestamp = z.string().describe('ISO 8601 time').nullable();

export const problemSchema = z
  .object({
    path: z.string(),
    message: z.string(),
    line: z.number().int().optional(),
    column: z.number().int().optional(),
  })
  .openapi('Problem');

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'not_found' }),
      message: z.string(),
      problems: z.array(problemSchema).optional(),
    }),
  })
  .openapi('Error');

export const userSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string().nullable(),
    mobile: z.string().nullable(),
    is_admin: z.boolean(),
    created_at: z.string(),
  })
  .openapi('User');

export const newUserSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'use letters, digits, ., _ and -')
      .openapi({ example: 'alice' }),
    email: z.email().optional(),
    mobile: z
      .string()
      .regex(/^\+?[0-9 ()-]{5,20}$/, 'use digits, spaces and an optional leading +')
      .optional(),
    is_admin: z.boolean().optional(),
  })
  .openapi('NewUser');

export const tokenInfoSchema = z
  .object({
    id: z.string(),
    user_id: z.string(),
    label: z.string().nullable(),
    created_at: z.string(),
    last_used_at: timestamp,
  })
  .openapi('TokenInfo');

export const issuedTokenSchema = z
  .object({ token: z.string().describe('Shown once; store it now.'), info: tokenInfoSchema })
  .openapi('IssuedToken');

export const workflowSummarySchema = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    version: z.number().int(),
    stages: z.array(
      z.object({ name: z.string(), jobs: z.array(z.object({ name: z.string(), type: z.string() })) }),
    ),
    params: z.array(
      z.object({
        name: z.string(),
        default: z.string().nullable(),
        required: z.boolean(),
        description: z.string().nullable(),
      }),
    ),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('WorkflowSummary');

export const workflowSchema = workflowSummarySchema
  .extend({
    source: z.string().describe('The document as it was sent (YAML or JSON).'),
    spec: z.record(z.string(), z.unknown()),
  })
  .openapi('Workflow');

export const decisionSchema = z
  .object({
    user_id: z.string(),
    user_name: z.string(),
    decision: z.enum(['approve', 'reject']),
    comment: z.string().nullable(),
    as_admin: z.boolean().describe('Decided by an admin who is not a listed approver.'),
    decided_at: z.string(),
  })
  .openapi('Decision');

export const vendorApproverSchema = z
  .object({
    id: z.string().describe("The vendor's user id."),
    name: z.string().nullable(),
    avatar: z.string().nullable(),
    decision: z.enum(['pending', 'approved', 'rejected', 'transferred', 'waiting']),
    comment: z.string().nullable(),
    decided_at: timestamp,
  })
  .openapi('VendorApprover');

export const vendorApprovalSchema = z
  .object({
    platform: z.enum(['feishu', 'lark', 'dingtalk', 'wecom']),
    im_app_id: z.string(),
    instance_id: z.string().nullable().describe('Null until the instance has been created at the vendor.'),
    status: z
      .string()
      .nullable()
      .describe("The vendor's own status word (e.g. PENDING, CANCELED, TERMINATED, 4)."),
    link: z
      .string()
      .nullable()
      .describe("Opens the instance in the vendor's app, where the vendor gives one."),
    status_text: z.string().nullable().describe('What happened at the vendor, in words.'),
    nodes: z.array(
      z.object({
        type: z.enum(['AND', 'OR']),
        status: z.enum(['pending', 'approved', 'rejected', 'waiting']),
        approvers: z.array(vendorApproverSchema),
      }),
    ),
    last_synced_at: timestamp,
  })
  .openapi('VendorApproval');

export const approvalSchema = z
  .object({
    id: z.number().int(),
    run_id: z.number().int(),
    workflow: z.string(),
    job: z.string(),
    kind: z.string(),
    status: z.enum(['pending', 'approved', 'rejected', 'timeout', 'cancelled']),
    needed: z.number().int(),
    approvers: z.array(z.object({ user_id: z.string(), name: z.string() })),
    decisions: z.array(decisionSchema),
    description: z.string().nullable(),
    deadline: z.string(),
    timeout_outcome: z.enum(['approve', 'reject']),
    created_at: z.string(),
    decided_at: timestamp,
    vendor: vendorApprovalSchema
      .nullable()
      .describe(
        'For approvals decided in Feishu, Lark, DingTalk or WeCom: the vendor instance and its progress.',
      ),
  })
  .openapi('Approval');

export const jobSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    type: z.string(),
    status: z.enum(jobStatuses),
    reason: z.string().nullable(),
    outputs: z.record(z.string(), z.string()),
    attempts: z.number().int(),
    started_at: timestamp,
    finished_at: timestamp,
    duration_ms: z.number().int().nullable(),
    approval: approvalSchema.optional(),
  })
  .openapi('Job');

export const stageSchema = z
  .object({ name: z.string(), status: z.enum(jobStatuses), jobs: z.array(jobSchema) })
  .openapi('Stage');

export const runSummarySchema = z
  .object({
    id: z.number().int(),
    workflow: z.string(),
    number: z.number().int(),
    status: z.enum(runStatuses),
    reason: z.string().nullable(),
    params: z.record(z.string(), z.string()),
    triggered_by: z.string().nullable(),
    created_at: z.string(),
    started_at: timestamp,
    finished_at: timestamp,
    duration_ms: z.number().int().nullable(),
    url: z.string(),
  })
  .openapi('RunSummary');

export const runSchema = runSummarySchema.extend({ stages: z.array(stageSchema) }).openapi('Run');

export const logChunkSchema = z
  .object({
    id: z.number().int(),
    job: z.string(),
    stream: z.enum(['stdout', 'stderr', 'system']),
    text: z.string(),
    at: z.string(),
  })
  .openapi('LogChunk');

export const decideSchema = z
  .object({
    decision: z.enum(['approve', 'reject']),
    comment: z.string().max(2000).optional(),
  })
  .openapi('DecisionRequest');

/** Ids are PostgreSQL integers; a larger number cannot name anything. */
export const idNumber = z.coerce.number().int().positive().max(2_147_483_647);

export const runIdParam = z.object({
  id: idNumber.openapi({ param: { name: 'id', in: 'path' }, example: 42 }),
});
