import type { Job, Run } from '../client.js';
import { duration, pad, relativeTime, type Style, statusSymbol, statusWord } from '../render.js';
import { defineCommand, printJson, runIdArgs } from './define.js';
import { approvalCommand, approvalNeeds, decisionText, vendorApprovalLines } from './run-text.js';

export const status = defineCommand({
  name: 'status',
  usage: 'status <run>',
  summary: 'Show a run: its stages and jobs, statuses, reasons, durations and approvals',
  help: `Options:
  --json   print the API's JSON

Examples:
  signoff status 42
  signoff runs --limit 5     (to find a run's id)`,
  async run(args, { client, out }) {
    const { id, json } = runIdArgs(args);
    const api = client();
    const run = await api.get<Run>(`/api/runs/${id}`);
    if (json) {
      printJson(out, run);
      return 0;
    }
    for (const line of runTree(run, out.style)) out.print(line);
    const { notifications } = await api.get<{ notifications: Array<{ status: string }> }>(
      `/api/runs/${id}/notifications`,
    );
    if (notifications.length > 0) {
      const counts = new Map<string, number>();
      for (const row of notifications) counts.set(row.status, (counts.get(row.status) ?? 0) + 1);
      const summary = [...counts].map(([state, count]) => `${count} ${state}`).join(', ');
      out.print('');
      out.print(`notifications: ${summary}  ${out.style.dim(`(signoff notifications ${id})`)}`);
    }
    return 0;
  },
});

export function runTree(run: Run, style: Style, now = Date.now()): string[] {
  const lines: string[] = [];
  const took =
    run.duration_ms !== null ? ` ${run.finished_at ? 'in' : 'for'} ${duration(run.duration_ms)}` : '';
  lines.push(
    `${style.bold(`Run ${run.id}`)}  ${run.workflow} #${run.number}  ${statusSymbol(run.status, style)} ${statusWord(run.status, style)}${took}`,
  );
  if (run.reason) lines.push(`  reason: ${run.reason}`);
  const by = run.triggered_by ? ` by ${run.triggered_by}` : '';
  lines.push(`  started ${relativeTime(run.started_at ?? run.created_at, now)}${by}`);
  const params = Object.entries(run.params);
  if (params.length > 0)
    lines.push(`  params: ${params.map(([key, value]) => `${key}=${value}`).join(', ')}`);
  lines.push(`  ${style.dim(run.url)}`);

  const width = Math.max(0, ...run.stages.flatMap((stage) => stage.jobs.map((job) => job.name.length)));
  for (const stage of run.stages) {
    lines.push('');
    lines.push(`${statusSymbol(stage.status, style)} ${style.bold(stage.name)}`);
    for (const job of stage.jobs) lines.push(...jobLines(run, job, width, style, now));
  }
  return lines;
}

function jobLines(run: Run, job: Job, width: number, style: Style, now: number): string[] {
  const took = job.duration_ms !== null && job.status !== 'skipped' ? `  ${duration(job.duration_ms)}` : '';
  const lines = [
    `    ${statusSymbol(job.status, style)} ${pad(job.name, width)}  ${statusWord(job.status, style)}${took}`,
  ];
  const detail = (text: string) => lines.push(`        ${text}`);
  if (job.reason) detail(style.dim(job.reason));
  const approval = job.approval;
  if (approval?.vendor) {
    for (const line of vendorApprovalLines(approval, style, now)) detail(line);
  } else if (approval) {
    if (approval.description) detail(`"${approval.description}"`);
    detail(`approvers: ${approvalNeeds(approval)}`);
    for (const decision of approval.decisions)
      detail(
        `${statusSymbol(decision.decision === 'approve' ? 'approved' : 'rejected', style)} ${decisionText(decision, style, now)}`,
      );
    if (approval.status === 'pending') {
      const outcome = approval.timeout_outcome === 'approve' ? 'approved' : 'rejected';
      detail(`deadline ${relativeTime(approval.deadline, now)} (then ${outcome} automatically)`);
      detail(`decide with: ${approvalCommand(run, job)}  or  ${approvalCommand(run, job, 'reject')}`);
    }
  }
  return lines;
}
