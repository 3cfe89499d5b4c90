// The workflow document: what an author writes (YAML or JSON, snake_case) and the complete value the engine
// receives after parsing (defaults applied, durations in milliseconds). The zod model is the single source of
// truth: the parser, the REST API, docs/workflow.schema.json and docs/workflow.md all follow from it.
import type { Template } from 'liquidjs';
import { z } from 'zod';
import { languages, type NotifyEvent, notifyEvents } from '../notifications/message.js';
import { formatDuration, parseDuration } from './duration.js';
import { createLiquid } from './template.js';

// Names end up in URLs, CLI arguments and `jobs.<name>` template references, so they stay lowercase and
// free of characters that need quoting anywhere.
const namePattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;
// Param names and env keys are read as Liquid variables and shell variables, so they must be identifiers.
const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
// RFC 9110 token characters.
const headerNamePattern = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const userNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function name(label: string, description: string) {
  return z
    .string()
    .regex(namePattern, {
      error: `${label} must be 1 to 63 characters of a-z, 0-9, _ and -, starting with a letter or digit`,
    })
    .describe(description);
}

function identifier(label: string) {
  return z.string().regex(identifierPattern, {
    error: `${label} must start with a letter or _ and contain only letters, digits and _`,
  });
}

// YAML turns `1.0`, `8080` and `true` into numbers and booleans; where we expect text we take them as text.
// (The parser goes further and keeps the exact source spelling, so `1.10` stays "1.10" instead of "1.1".)
const text = z.union([z.string(), z.number(), z.boolean()]).transform((value) => String(value));

/** A string rendered with Liquid at run time; `parseWorkflow` checks its syntax and the variables it reads. */
function template(description: string) {
  return z.string().describe(`${description} Liquid template.`);
}

interface DurationOptions {
  label: string;
  default: string;
  min: number;
  max: number;
}

function durationText({ label, min, max }: DurationOptions) {
  return (value: string | number, ctx: z.RefinementCtx): number => {
    const ms = typeof value === 'number' ? value * 60_000 : parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `${label} must be a duration like 30m, 2h or 1h30m` });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({
        code: 'custom',
        message: `${label} must be between ${formatDuration(min)} and ${formatDuration(max)}`,
      });
      return z.NEVER;
    }
    return ms;
  };
}

/** Written as `30m`, `2h`, `1h30m`, `1d`; parsed to milliseconds. */
function duration(options: DurationOptions, description: string) {
  return z
    .string()
    .transform(durationText(options))
    .prefault(options.default)
    .describe(
      `${description} A duration such as 30m, 2h or 1h30m, from ${formatDuration(options.min)} to ` +
        `${formatDuration(options.max)}; default ${options.default}. Parsed to milliseconds.`,
    );
}

/** Like `duration`, but a bare number means minutes, as in Zadig's approval `timeout`. */
function durationOrMinutes(options: DurationOptions, description: string) {
  return z
    .union([z.string(), z.number()])
    .transform(durationText(options))
    .prefault(options.default)
    .describe(
      `${description} A duration such as 30m, 2h or 1d, from ${formatDuration(options.min)} to ` +
        `${formatDuration(options.max)}; a bare number means minutes (Zadig compatible); default ` +
        `${options.default}. Parsed to milliseconds.`,
    );
}

export const paramSchema = z
  .strictObject({
    name: identifier('param name').describe('Name the templates use: `{{ params.<name> }}`. Unique.'),
    default: text
      .optional()
      .describe('Value used when a run does not set this param. Numbers and booleans are taken as text.'),
    required: z
      .boolean()
      .default(false)
      .describe('When true, a run must end up with a non-empty value (given, or from `default`).'),
    description: z.string().optional().describe('Shown to whoever starts a run.'),
  })
  .describe('An input a run can set; read in templates as `{{ params.<name> }}`.');

export const shellSpecSchema = z
  .strictObject({
    script: z
      .string()
      .regex(/\S/, { error: 'script must not be empty' })
      .describe('The commands to run. Liquid template; every value it prints is shell-quoted.'),
    shell: z.enum(['sh', 'bash']).default('sh').describe('Interpreter for `script`; default sh.'),
    env: z
      .record(identifier('env name'), text)
      .default({})
      .describe('Extra environment variables. Values are Liquid templates; numbers are taken as text.'),
    timeout: duration(
      { label: 'timeout', default: '1h', min: 1_000, max: 86_400_000 },
      'The job fails with status timeout when the script runs longer.',
    ),
    working_directory: z
      .string()
      .min(1)
      .optional()
      .describe('Directory the script starts in, relative to the run workspace.'),
  })
  .describe('Runs a script.');

export const nativeApprovalSpecSchema = z
  .strictObject({
    type: z
      .literal('native')
      .describe('Where approvers decide. `native`: in the Signoff console, CLI or API.'),
    approvers: z
      .array(
        z.string().refine((value) => emailPattern.test(value) || userNamePattern.test(value), {
          error: 'each approver must be a Signoff user name or an email address',
        }),
      )
      .min(1)
      .max(50)
      .describe('Who may decide: Signoff user names or email addresses, 1 to 50, no duplicates.'),
    // The real upper bound, the number of approvers, is checked with the whole spec in view (checkApprovers).
    needed_approvers: z
      .number()
      .int({ error: 'needed_approvers must be a whole number' })
      .min(1, { error: 'needed_approvers must be at least 1' })
      .max(50, { error: 'needed_approvers must be at most 50' })
      .default(1)
      .describe('How many approvals pass the job, from 1 to the number of approvers; default 1.'),
    timeout: durationOrMinutes(
      { label: 'timeout', default: '1h', min: 60_000, max: 30 * 86_400_000 },
      'How long to wait for decisions before `timeout_outcome` applies.',
    ),
    timeout_outcome: z
      .enum(['reject', 'approve'])
      .default('reject')
      .describe('What happens when the timeout passes without enough decisions; default reject.'),
    description: template('What the approvers are asked; shown with the request.').optional(),
  })
  .describe('Approval decided in Signoff itself.');

// A person in the vendor's address book: by vendor id, or by email or mobile (resolved when the job starts).
export const imPersonSchema = z
  .union(
    [
      z.strictObject({
        id: z
          .string()
          .min(1)
          .max(128)
          .describe("The vendor's user id (Feishu open_id, DingTalk/WeCom userid)."),
      }),
      z.strictObject({
        email: z
          .string()
          .regex(emailPattern, { error: 'email must be an email address' })
          .describe('Looked up in the address book.'),
      }),
      z.strictObject({
        mobile: z
          .string()
          .regex(/^\+?[0-9][0-9 -]{4,24}$/, { error: 'mobile must be a phone number' })
          .describe('Looked up in the address book.'),
      }),
    ],
    { error: 'a person is { id: … }, { email: … } or { mobile: … }' },
  )
  .describe('A person: `{ id }`, `{ email }` or `{ mobile }`.');

export const approvalNodeSchema = z
  .strictObject({
    type: z
      .enum(['AND', 'OR'])
      .default('AND')
      .describe(
        '`AND`: every approver must approve (会签). `OR`: the first decision counts (或签). Default AND.',
      ),
    approvers: z.array(imPersonSchema).min(1).max(100).describe('Who decides at this node, 1 to 100.'),
  })
  .describe('One step of the approval; steps run in order.');

const vendorApprovalFields = {
  app: z
    .string()
    .min(1)
    .max(128)
    .describe('The IM app (its name or id, from Settings → Integrations → IM) whose approval app is used.'),
  title: template('Title of the approval instance; default "<workflow> #<run number>: <job>".').optional(),
  description: template(
    'What the approvers are asked; shown in the approval form with a link to the run.',
  ).optional(),
  initiator: imPersonSchema
    .optional()
    .describe(
      'Who starts the instance in the vendor app; default the user who started the run, found by email.',
    ),
  nodes: z.array(approvalNodeSchema).min(1).max(20).describe('Approval steps, in order, 1 to 20.'),
  cc: z.array(imPersonSchema).max(100).default([]).describe('People copied on the approval (抄送).'),
  timeout: durationOrMinutes(
    { label: 'timeout', default: '1h', min: 60_000, max: 30 * 86_400_000 },
    'How long to wait for the decision before `timeout_outcome` applies; the vendor instance is then withdrawn where the vendor allows.',
  ),
  timeout_outcome: z
    .enum(['reject', 'approve'])
    .default('reject')
    .describe('What happens when the timeout passes without a decision; default reject.'),
  remind_before: z
    .string()
    .transform(durationText({ label: 'remind_before', default: '0s', min: 60_000, max: 30 * 86_400_000 }))
    .optional()
    .describe('Send the pending approvers a reminder this long before the timeout (e.g. 15m).'),
};

const vendorApprovalSpec = <T extends 'feishu' | 'lark' | 'dingtalk' | 'wecom'>(type: T, label: string) =>
  z
    .strictObject({
      type: z.literal(type).describe(`\`${type}\`: in ${label}'s approval app.`),
      ...vendorApprovalFields,
    })
    .describe(`Approval decided in ${label}'s approval app.`);

export const feishuApprovalSpecSchema = vendorApprovalSpec('feishu', 'Feishu');
export const larkApprovalSpecSchema = vendorApprovalSpec('lark', 'Lark');
export const dingtalkApprovalSpecSchema = vendorApprovalSpec('dingtalk', 'DingTalk');
export const wecomApprovalSpecSchema = vendorApprovalSpec('wecom', 'WeCom');

// One branch per place approvals are decided.
export const approvalSpecSchema = z.discriminatedUnion('type', [
  nativeApprovalSpecSchema,
  feishuApprovalSpecSchema,
  larkApprovalSpecSchema,
  dingtalkApprovalSpecSchema,
  wecomApprovalSpecSchema,
]);

// ---- notification channels: shared by notification jobs and `notify` rules ----

function urlField(what: string) {
  return z
    .string()
    .refine(isWebhookUrl, {
      error: 'url must be an http(s) URL, or a template such as "{{ secrets.ops_hook }}"',
    })
    .describe(
      `${what}: an http(s) URL, or a Liquid template such as \`{{ secrets.ops_hook }}\` (a webhook URL is a ` +
        'credential; keep it in a secret).',
    );
}

const messageFields = {
  title: template('Message title; default: what happened, e.g. "✅ release #12 passed".').optional(),
  content: template(
    'Message body; default: the run at a glance (who, duration, stages and jobs, approval). Values are ' +
      'escaped for the channel (markdown, HTML).',
  ).optional(),
  language: z
    .enum(languages)
    .optional()
    .describe('`zh-CN` or `en` for the default texts; default SIGNOFF_LANGUAGE (en).'),
};

const appField = z
  .string()
  .min(1)
  .max(128)
  .describe('The IM app (its name or id, from Settings → Integrations → IM) whose bot or app sends.');

const mentionAll = z.boolean().default(false).describe('Mention everyone in the group (@all / @所有人).');

const idMention = z.strictObject({
  id: z.string().min(1).max(128).describe("The vendor's user id (Feishu open_id, DingTalk/WeCom userid)."),
});
const mobileMention = z.strictObject({
  mobile: z
    .string()
    .regex(/^\+?[0-9][0-9 -]{4,24}$/, { error: 'mobile must be a phone number' })
    .describe('The mobile number the person registered.'),
});

function appChannelShape(channel: 'feishu_app' | 'lark_app', label: string) {
  return {
    channel: z
      .literal(channel)
      .describe(`\`${channel}\`: the ${label} app's bot posts to a group or to people.`),
    app: appField,
    chat: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe(
        'Group chat id (`oc_…`, from the console chat picker or `GET /api/im-apps/<app>/chats`); the bot must be in it.',
      ),
    to: z
      .array(imPersonSchema)
      .max(100)
      .optional()
      .describe('People to message directly (id, email or mobile). Give `chat`, `to` or both.'),
    mention: z.array(imPersonSchema).max(50).default([]).describe('People to @mention in the group message.'),
    mention_all: mentionAll,
    ...messageFields,
  };
}

function hookChannelShape(channel: 'feishu_webhook' | 'lark_webhook', label: string) {
  return {
    channel: z
      .literal(channel)
      .describe(`\`${channel}\`: a ${label} group's custom bot (自定义机器人) webhook.`),
    url: urlField('The custom bot webhook URL (https://…/open-apis/bot/v2/hook/…)'),
    secret: z
      .string()
      .min(1)
      .optional()
      .describe("The bot's 签名校验 (signature) secret, when set in the bot's security settings. Liquid."),
    mention: z.array(idMention).max(50).default([]).describe('People to @mention, by open_id (`ou_…`).'),
    mention_all: mentionAll,
    ...messageFields,
  };
}

const peopleField = (label: string) =>
  z.array(imPersonSchema).min(1).max(100).describe(`People the ${label} app messages (id, email or mobile).`);

const channelShapes = {
  webhook: {
    channel: z.literal('webhook').describe('`webhook`: a JSON POST to `url`.'),
    url: urlField('Where to POST'),
    secret: z
      .string()
      .min(1)
      .optional()
      .describe(
        'When set, each POST carries `X-Signoff-Signature: sha256=<hex HMAC-SHA256 of the body>`. Liquid ' +
          'template, so it can come from a secret: `{{ secrets.ops_hook_key }}`.',
      ),
    title: messageFields.title,
    content: messageFields.content,
    language: messageFields.language,
    headers: z
      .record(
        z.string().regex(headerNamePattern, { error: 'header name must be a valid HTTP header name' }),
        text,
      )
      .default({})
      .describe('Extra HTTP headers. Values are Liquid templates.'),
  },
  feishu_app: appChannelShape('feishu_app', 'Feishu'),
  lark_app: appChannelShape('lark_app', 'Lark'),
  feishu_webhook: hookChannelShape('feishu_webhook', 'Feishu'),
  lark_webhook: hookChannelShape('lark_webhook', 'Lark'),
  dingtalk_robot: {
    channel: z
      .literal('dingtalk_robot')
      .describe("`dingtalk_robot`: a DingTalk group's custom robot (自定义机器人)."),
    url: urlField('The robot webhook URL (https://oapi.dingtalk.com/robot/send?access_token=…)'),
    secret: z
      .string()
      .min(1)
      .optional()
      .describe("The `SEC…` secret of the robot's 加签 (signing) security setting. Liquid."),
    mention: z
      .array(z.union([mobileMention, idMention]))
      .max(50)
      .default([])
      .describe('People to @mention, by mobile or DingTalk userid.'),
    mention_all: mentionAll,
    ...messageFields,
  },
  dingtalk_app: {
    channel: z
      .literal('dingtalk_app')
      .describe('`dingtalk_app`: a work notification (工作通知) from the app.'),
    app: appField,
    to: peopleField('DingTalk'),
    ...messageFields,
  },
  wecom_robot: {
    channel: z.literal('wecom_robot').describe('`wecom_robot`: a WeCom group robot (群机器人) webhook.'),
    url: urlField('The robot webhook URL (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…)'),
    mention: z
      .array(z.union([idMention, mobileMention]))
      .max(50)
      .default([])
      .describe('People to @mention, by WeCom userid or mobile.'),
    mention_all: mentionAll,
    ...messageFields,
  },
  wecom_app: {
    channel: z.literal('wecom_app').describe('`wecom_app`: an app message (应用消息) to people.'),
    app: appField,
    to: peopleField('WeCom'),
    ...messageFields,
  },
  mail: {
    channel: z.literal('mail').describe('`mail`: an email through the SMTP server in SIGNOFF_SMTP_URL.'),
    to: z
      .array(z.string().regex(emailPattern, { error: 'to must list email addresses' }))
      .min(1)
      .max(100)
      .describe('Email addresses; each gets its own mail.'),
    ...messageFields,
  },
} as const;

export const channelNames = Object.keys(channelShapes) as Array<keyof typeof channelShapes>;

const channelDescriptions: Record<keyof typeof channelShapes, string> = {
  webhook: 'Posts a JSON message to a URL.',
  feishu_app: 'A Feishu app bot message to a group or people.',
  lark_app: 'A Lark app bot message to a group or people.',
  feishu_webhook: 'A Feishu custom bot message.',
  lark_webhook: 'A Lark custom bot message.',
  dingtalk_robot: 'A DingTalk custom robot message.',
  dingtalk_app: 'A DingTalk work notification.',
  wecom_robot: 'A WeCom group robot message.',
  wecom_app: 'A WeCom app message.',
  mail: 'An email.',
};

function channelUnion<Extra extends z.ZodRawShape>(extra: Extra) {
  const branch = <K extends keyof typeof channelShapes>(key: K) =>
    z.strictObject({ ...channelShapes[key], ...extra }).describe(channelDescriptions[key]);
  return z.discriminatedUnion('channel', [
    branch('webhook'),
    branch('feishu_app'),
    branch('lark_app'),
    branch('feishu_webhook'),
    branch('lark_webhook'),
    branch('dingtalk_robot'),
    branch('dingtalk_app'),
    branch('wecom_robot'),
    branch('wecom_app'),
    branch('mail'),
  ]);
}

// A notification job always sends.
export const notificationSpecSchema = channelUnion({});

/** Events a job-level rule can name (a job is never `created`, and `changed` is about runs). */
export const jobNotifyEvents = notifyEvents.filter((event) => event !== 'created' && event !== 'changed');

export const notifyRuleSchema = channelUnion({
  on: z
    .array(z.enum(notifyEvents))
    .min(1)
    .describe(
      'When to send: `created`, `running`, `wait_for_approval` (per approval job, with who must decide), ' +
        '`passed`, `failed`, `rejected`, `timeout`, `cancelled`, `changed` (the outcome differs from the ' +
        "previous run's).",
    ),
});
export const jobNotifyRuleSchema = channelUnion({
  on: z
    .array(z.enum(jobNotifyEvents as [JobNotifyEvent, ...JobNotifyEvent[]]))
    .min(1)
    .describe(
      "When to send, by this job's status: `running`, `wait_for_approval`, `passed`, `failed`, `rejected`, `timeout`, `cancelled`.",
    ),
});
type JobNotifyEvent = Exclude<NotifyEvent, 'created' | 'changed'>;

const notifyRules = (schema: typeof notifyRuleSchema | typeof jobNotifyRuleSchema, where: string) =>
  z
    .array(schema)
    .max(20)
    .optional()
    .describe(`Messages to send when ${where} reaches the listed events, each to one channel.`);

function isWebhookUrl(value: string): boolean {
  if (value.includes('{{') || value.includes('{%')) return true;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

const jobName = () =>
  name('job name', 'Unique across the whole workflow; templates read `{{ jobs.<name> }}`.');

export const shellJobSchema = z
  .strictObject({
    name: jobName(),
    type: z.literal('shell').describe('Job kind.'),
    spec: shellSpecSchema,
    notify: notifyRules(jobNotifyRuleSchema, 'this job'),
  })
  .describe('Runs a script; passes when it exits with 0.');

export const approvalJobSchema = z
  .strictObject({
    name: jobName(),
    type: z.literal('approval').describe('Job kind.'),
    spec: approvalSpecSchema,
    notify: notifyRules(jobNotifyRuleSchema, 'this job'),
  })
  .describe('Waits for people to approve or reject.');

export const notificationJobSchema = z
  .strictObject({
    name: jobName(),
    type: z.literal('notification').describe('Job kind.'),
    spec: notificationSpecSchema,
  })
  .describe('Sends a message.');

export const jobSchema = z.discriminatedUnion('type', [
  shellJobSchema,
  approvalJobSchema,
  notificationJobSchema,
]);

export const stageSchema = z
  .strictObject({
    name: name('stage name', 'Unique among the stages.'),
    jobs: z.array(jobSchema).min(1).describe('Run in parallel; the stage passes when every job passes.'),
  })
  .describe('A group of jobs; stages run one after another.');

export const workflowSchema = z
  .strictObject({
    name: name('workflow name', 'Identifies the workflow in URLs and on the command line.'),
    description: z.string().optional().describe('Shown in the console and CLI listings.'),
    params: z.array(paramSchema).default([]).describe('Inputs a run can set.'),
    stages: z
      .array(stageSchema)
      .min(1)
      .describe('Run in order; a stage starts when the previous one passed.'),
    notify: notifyRules(notifyRuleSchema, 'a run'),
  })
  // `when` makes the cross-field checks run even when a field elsewhere is wrong, so an author sees every
  // problem in one round. The value may therefore be partly invalid, and checkWorkflow reads it as unknown.
  .superRefine((value, ctx) => checkWorkflow(value, ctx), { when: () => true })
  .meta({
    title: 'Signoff workflow',
    description: 'Stages of jobs (shell, approval, notification). See docs/workflow.md.',
  });

/** The complete workflow handed to the engine: defaults applied, every `timeout` in milliseconds. */
export type Workflow = z.output<typeof workflowSchema>;
/** The workflow as an author may write it (optional fields, durations as text). */
export type WorkflowInput = z.input<typeof workflowSchema>;
export type Param = z.output<typeof paramSchema>;
export type Stage = z.output<typeof stageSchema>;
export type Job = z.output<typeof jobSchema>;
export type ShellJob = z.output<typeof shellJobSchema>;
export type ApprovalJob = z.output<typeof approvalJobSchema>;
export type VendorApprovalSpec = Exclude<ApprovalJob['spec'], { type: 'native' }>;
export type ImPerson = z.output<typeof imPersonSchema>;
export type NotificationJob = z.output<typeof notificationJobSchema>;
/** One channel's settings, as a notification job or a rule gives them. */
export type ChannelSpec = z.output<typeof notificationSpecSchema>;
export type NotifyRule = z.output<typeof notifyRuleSchema>;
export type JobNotifyRule = z.output<typeof jobNotifyRuleSchema>;

/** docs/workflow.schema.json: what authors write (the input side), for editors and external tools. */
export function workflowJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(workflowSchema, { target: 'draft-2020-12', io: 'input', reused: 'ref' });
}

// ---- checks that need more than one field in view ----

/** The roots the engine provides to every template. */
export const templateRoots = ['params', 'run', 'jobs', 'secrets'] as const;

// The same options as the engine's renderer (src/engine/template.ts), so what passes here renders there:
// in particular an unknown filter is an error rather than silently skipped.
const liquid = createLiquid();

type Path = (string | number)[];
type Ctx = z.RefinementCtx;

function checkWorkflow(value: unknown, ctx: Ctx): void {
  if (!isRecord(value)) return;
  const params = Array.isArray(value.params) ? value.params : [];
  const stages = Array.isArray(value.stages) ? value.stages : [];

  const paramNames = uniqueNames(
    params,
    ['params'],
    ctx,
    (name, first) => `param \`${name}\` is already declared at ${first}; param names must be unique`,
  );
  uniqueNames(
    stages,
    ['stages'],
    ctx,
    (name, first) => `stage name \`${name}\` is already used by ${first}; stage names must be unique`,
  );

  // Jobs are addressed by name across the whole workflow, so uniqueness is workflow-wide.
  const jobStage = new Map<string, number>();
  const jobs: { job: Record<string, unknown>; path: Path; stage: number }[] = [];
  stages.forEach((stage, stageIndex) => {
    if (!isRecord(stage) || !Array.isArray(stage.jobs)) return;
    stage.jobs.forEach((job, jobIndex) => {
      if (isRecord(job))
        jobs.push({ job, path: ['stages', stageIndex, 'jobs', jobIndex], stage: stageIndex });
    });
  });
  const firstJobPath = new Map<string, Path>();
  for (const { job, path, stage } of jobs) {
    if (typeof job.name !== 'string') continue;
    const first = firstJobPath.get(job.name);
    if (first) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'name'],
        message: `job name \`${job.name}\` is already used by ${formatPath(first)}; job names must be unique across the workflow`,
      });
    } else {
      firstJobPath.set(job.name, path);
      jobStage.set(job.name, stage);
    }
  }

  const checkChannel = (spec: Record<string, unknown>, specPath: Path, stage: number) => {
    checkRecipients(spec, specPath, ctx);
    for (const [field, source] of templateFields('notification', spec)) {
      checkTemplate(source, [...specPath, ...field], { params: paramNames, jobStage, stage }, ctx);
    }
  };
  for (const { job, path, stage } of jobs) {
    if (Array.isArray(job.notify))
      job.notify.forEach((rule, index) => {
        // A job's own rules fire on its own status changes, so they may read its stage's jobs too.
        if (isRecord(rule)) checkChannel(rule, [...path, 'notify', index], stage + 1);
      });
    if (!isRecord(job.spec)) continue;
    const specPath = [...path, 'spec'];
    if (job.type === 'approval') checkApprovers(job.spec, specPath, ctx);
    if (job.type === 'notification') {
      checkChannel(job.spec, specPath, stage);
      continue;
    }
    for (const [field, source] of templateFields(job.type, job.spec)) {
      checkTemplate(source, [...specPath, ...field], { params: paramNames, jobStage, stage }, ctx);
    }
  }
  // Workflow-level rules may read every job (they fire as the run goes; a job not run yet reads empty).
  if (Array.isArray(value.notify))
    value.notify.forEach((rule, index) => {
      if (isRecord(rule)) checkChannel(rule, ['notify', index], stages.length);
    });
}

/** An app channel needs somewhere to send: a group (`chat`) or people (`to`). */
function checkRecipients(spec: Record<string, unknown>, path: Path, ctx: Ctx): void {
  if (spec.channel !== 'feishu_app' && spec.channel !== 'lark_app') return;
  if (spec.chat === undefined && (!Array.isArray(spec.to) || spec.to.length === 0))
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'chat'],
      message: `${spec.channel} needs \`chat\` (a group chat id) or \`to\` (people), or both`,
    });
}

/** Reports every repeated `name` in `items`; returns the set of names seen. */
function uniqueNames(
  items: unknown[],
  path: Path,
  ctx: Ctx,
  message: (name: string, first: string) => string,
): Set<string> {
  const first = new Map<string, number>();
  items.forEach((item, index) => {
    if (!isRecord(item) || typeof item.name !== 'string') return;
    const seen = first.get(item.name);
    if (seen === undefined) first.set(item.name, index);
    else
      ctx.addIssue({
        code: 'custom',
        path: [...path, index, 'name'],
        message: message(item.name, formatPath([...path, seen])),
      });
  });
  return new Set(first.keys());
}

function checkApprovers(spec: Record<string, unknown>, path: Path, ctx: Ctx): void {
  if (!Array.isArray(spec.approvers)) return;
  const approvers = spec.approvers;
  // Case-insensitive: e-mail addresses are, and `Alice` next to `alice` is a mistake either way.
  const seen = new Set<string>();
  approvers.forEach((approver, index) => {
    if (typeof approver !== 'string') return;
    const key = approver.toLowerCase();
    if (seen.has(key)) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'approvers', index],
        message: `approver \`${approver}\` is listed twice; list each approver once`,
      });
    }
    seen.add(key);
  });
  const needed = spec.needed_approvers;
  // Outside 1..50 the field's own check has spoken, and with no approvers the `approvers` problem says what
  // to fix; repeating either here would only add noise.
  if (typeof needed === 'number' && needed <= 50 && approvers.length > 0 && needed > approvers.length) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'needed_approvers'],
      message: `needed_approvers must be between 1 and ${approvers.length} (the number of approvers)`,
    });
  }
}

/** The Liquid-templated fields of one job spec, as [path under spec, source]. */
function templateFields(type: unknown, spec: Record<string, unknown>): [Path, unknown][] {
  const mapValues = (key: string): [Path, unknown][] =>
    isRecord(spec[key]) ? Object.entries(spec[key]).map(([name, value]) => [[key, name], value]) : [];
  const fields = (...keys: string[]): [Path, unknown][] => keys.map((key) => [[key], spec[key]]);
  switch (type) {
    case 'shell':
      return [...fields('script'), ...mapValues('env')];
    case 'approval':
      return fields('title', 'description');
    case 'notification':
      return [...fields('url', 'secret', 'title', 'content'), ...mapValues('headers')];
    default:
      return [];
  }
}

interface TemplateScope {
  params: Set<string>;
  jobStage: Map<string, number>;
  stage: number;
}

function checkTemplate(source: unknown, path: Path, scope: TemplateScope, ctx: Ctx): void {
  if (typeof source !== 'string' || !(source.includes('{{') || source.includes('{%'))) return;
  const field = formatField(path);
  let parsed: Template[];
  try {
    parsed = liquid.parse(source);
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      path,
      message: `${field} is not a valid Liquid template: ${liquidMessage(error)}`,
    });
    return;
  }
  const reported = new Set<string>();
  const report = (key: string, message: string) => {
    if (reported.has(key)) return;
    reported.add(key);
    ctx.addIssue({ code: 'custom', path, message });
  };
  // `partials: false`: analysis must never read files named by an `{% include %}` in user text.
  for (const segments of liquid.globalVariableSegmentsSync(parsed, { partials: false })) {
    const [root, member] = segments;
    if (typeof root !== 'string') continue;
    if (!(templateRoots as readonly string[]).includes(root)) {
      report(root, `unknown variable \`${root}\` in ${field}; use params, run, jobs or secrets`);
    } else if (root === 'params' && typeof member === 'string' && !scope.params.has(member)) {
      const declared = [...scope.params].join(', ');
      report(
        `params.${member}`,
        `\`params.${member}\` in ${field} is not a declared param; ` +
          (declared ? `declared params: ${declared}` : 'declare it under params'),
      );
    } else if (root === 'jobs' && typeof member === 'string') {
      const stage = scope.jobStage.get(member);
      if (stage === undefined) {
        report(`jobs.${member}`, `\`jobs.${member}\` in ${field} is not a job of this workflow`);
      } else if (stage >= scope.stage) {
        report(
          `jobs.${member}`,
          `\`jobs.${member}\` in ${field} runs in the same or a later stage, so it has no result yet; ` +
            'refer only to jobs of earlier stages',
        );
      }
    }
  }
}

// liquidjs says `output "{{ x" not closed, line:1, col:1`; the position is inside the template, not the file.
function liquidMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const match = /^(.*), line:(\d+), col:(\d+)$/s.exec(message);
  return match ? `${match[1]} (template line ${match[2]}, column ${match[3]})` : message;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function formatField(path: Path): string {
  const last = path.at(-1);
  const parent = path.at(-2);
  return parent === 'env' || parent === 'headers' ? `${parent}.${String(last)}` : String(last);
}

/** `stages[0].jobs[1].spec.env.GOOS`; keys that are not identifiers are quoted: `headers["X-Team"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && identifierPattern.test(segment))
      text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}
