// How runs, jobs and approvals read on the command line; shared by `run --watch`, `watch`, `status` and
// `approvals`, so a waiting approval reads the same everywhere.
import type { Approval, Decision, Job, Run } from '../client.js';
import { duration, relativeTime, type Style, statusSymbol, statusWord } from '../render.js';

/** The exit code of `run --watch` and `watch` for each way a run ends. */
export const exitCodes = {
  passed: 0,
  failed: 1,
  usage: 2,
  rejected: 3,
  timeout: 4,
  cancelled: 5,
  interrupted: 130,
} as const;

export function exitCodeOf(status: string): number {
  return (exitCodes as Record<string, number>)[status] ?? exitCodes.failed;
}

export const exitCodeHelp = `Exit codes (with --watch):
  0    the run passed
  1    the run failed (or the command itself failed, e.g. the server is unreachable)
  2    usage error (bad arguments)
  3    the run was rejected (an approver rejected it)
  4    the run timed out (a job or an approval ran past its timeout)
  5    the run was cancelled
  130  you pressed Ctrl-C: watching stopped, the run goes on`;

export function approvalCommand(
  run: { id: number },
  job: { name: string },
  decision: 'approve' | 'reject' = 'approve',
) {
  return `signoff ${decision} ${run.id} ${job.name}`;
}

function approvedCount(approval: Approval): number {
  return approval.decisions.filter((decision) => decision.decision === 'approve').length;
}

/** `alice, bob; 1 of 2 needed` plus how many approved so far, when any did. */
export function approvalNeeds(approval: Approval): string {
  const names = approval.approvers.map((approver) => approver.name).join(', ');
  const approved = approvedCount(approval);
  const progress = approved > 0 ? `; ${approved} approved so far` : '';
  return `${names}; ${approval.needed} of ${approval.approvers.length} needed${progress}`;
}

/** What an approval job's decision left it at: `approved`, `rejected`, `pending: 1 of 2 approvals`. */
export function approvalState(approval: Approval): string {
  if (approval.status === 'pending')
    return `pending: ${approvedCount(approval)} of ${approval.needed} approvals`;
  return approval.status;
}

export function decisionText(decision: Decision, style: Style, now = Date.now()): string {
  const word = decision.decision === 'approve' ? style.green('approved') : style.red('rejected');
  const admin = decision.as_admin ? ' (as admin)' : '';
  const comment = decision.comment ? `: "${decision.comment}"` : '';
  return `${decision.user_name}${admin} ${word} ${relativeTime(decision.decided_at, now)}${comment}`;
}

/** Stage and job name as one address, `build/compile`. */
export function jobPath(stage: { name: string }, job: { name: string }): string {
  return `${stage.name}/${job.name}`;
}

/** One progress line for a job that changed: `✓ build/compile passed 1s — reason`. */
export function jobProgressLine(run: Run, stage: { name: string }, job: Job, style: Style): string {
  const head = `  ${statusSymbol(job.status, style)} ${jobPath(stage, job)} ${statusWord(job.status, style)}`;
  if (job.status === 'waiting_for_approval' && job.approval) {
    return `${head} (${approvalNeeds(job.approval)}) — approve with: ${approvalCommand(run, job)}`;
  }
  const took = job.status === 'running' || job.status === 'skipped' ? '' : ` ${duration(job.duration_ms)}`;
  const reason = job.reason ? ` — ${job.reason}` : '';
  return `${head}${took.trimEnd()}${reason}`;
}

/** The last line of a watched run: `✓ run 42 passed in 3s`, with the reason when it did not pass. */
export function runSummaryLine(run: Run, style: Style): string {
  const reason = run.reason ? `: ${run.reason}` : '';
  return `${statusSymbol(run.status, style)} run ${run.id} (${run.workflow} #${run.number}) ${statusWord(run.status, style)} in ${duration(run.duration_ms ?? 0)}${reason}`;
}

/** The jobs whose logs explain a failure. */
export function failedJobs(run: Run): Job[] {
  return run.stages
    .flatMap((stage) => stage.jobs)
    .filter((job) => job.status === 'failed' || job.status === 'timeout');
}

const platformNames: Record<string, string> = {
  feishu: 'Feishu',
  lark: 'Lark',
  dingtalk: 'DingTalk',
  wecom: 'WeCom',
};

/** A vendor approval: where it is decided, each node and approver, and what happened at the vendor. */
export function vendorApprovalLines(approval: Approval, style: Style, now = Date.now()): string[] {
  const vendor = approval.vendor!;
  const platform = platformNames[vendor.platform] ?? vendor.platform;
  const lines: string[] = [];
  lines.push(
    vendor.instance_id
      ? `decided in ${platform}'s approval app (instance ${vendor.instance_id}${vendor.status ? `, ${vendor.status}` : ''})`
      : approval.status === 'pending'
        ? `creating the approval in ${platform}…`
        : `nothing was created in ${platform}`,
  );
  vendor.nodes.forEach((node, index) => {
    lines.push(
      `node ${index + 1} (${node.type === 'AND' ? 'all must approve' : 'first decision counts'}): ${node.status}`,
    );
    for (const approver of node.approvers) {
      const word =
        approver.decision === 'approved'
          ? style.green('approved')
          : approver.decision === 'rejected'
            ? style.red('rejected')
            : approver.decision;
      const when = approver.decided_at ? ` ${relativeTime(approver.decided_at, now)}` : '';
      const comment = approver.comment ? `: "${approver.comment}"` : '';
      lines.push(`  ${approver.name ?? approver.id} ${word}${when}${comment}`);
    }
  });
  if (vendor.status_text) lines.push(style.dim(vendor.status_text));
  if (vendor.link) lines.push(`open in ${platform}: ${vendor.link}`);
  if (approval.status === 'pending' && vendor.instance_id) {
    const outcome = approval.timeout_outcome === 'approve' ? 'approved' : 'rejected';
    lines.push(`deadline ${relativeTime(approval.deadline, now)} (then ${outcome} automatically)`);
  }
  return lines;
}

/** Who decides, for a list row: `alice, bob (1 needed)`, or per node for a vendor approval. */
export function approversSummary(approval: Approval): string {
  const vendor = approval.vendor;
  if (!vendor)
    return `${approval.approvers.map((approver) => approver.name).join(', ')} (${approval.needed} needed)`;
  const nodes = vendor.nodes.map(
    (node) =>
      `${node.approvers.map((approver) => approver.name ?? approver.id).join(', ')} (${node.type === 'AND' ? 'all' : 'any'})`,
  );
  return `${platformNames[vendor.platform] ?? vendor.platform}: ${nodes.join(' → ')}`;
}

/** Decisions so far, for a list row: `bob approved, carol rejected`. */
export function decisionsSummary(approval: Approval): string {
  const decided = approval.vendor
    ? approval.vendor.nodes.flatMap((node) =>
        node.approvers
          .filter((approver) => approver.decision === 'approved' || approver.decision === 'rejected')
          .map((approver) => `${approver.name ?? approver.id} ${approver.decision}`),
      )
    : approval.decisions.map(
        (decision) => `${decision.user_name} ${decision.decision === 'approve' ? 'approved' : 'rejected'}`,
      );
  return decided.join(', ') || '—';
}
