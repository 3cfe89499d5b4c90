// What a job sees of its run: its own spec from the run's snapshot, and the template context.
import { AppError } from '../errors.js';
import type { JobRecord, RunRecord } from '../store/runs.js';
import type { TemplateContext } from './template.js';
import type { Job } from './workflow-spec.js';

export function jobSpec(spec: RunRecord['spec'], jobName: string): Job {
  for (const stage of spec.stages) {
    const job = stage.jobs.find((candidate) => candidate.name === jobName);
    if (job) return job;
  }
  throw new AppError('internal', `The run's workflow has no job named ${jobName}.`);
}

export function runUrl(publicUrl: string, runId: number): string {
  return `${publicUrl}/runs/${runId}`;
}

export function templateContext(
  run: RunRecord,
  jobs: JobRecord[],
  publicUrl: string,
  secrets: Record<string, string>,
): TemplateContext {
  return {
    params: run.params,
    run: {
      id: run.id,
      number: run.number,
      workflow: run.workflow_name,
      triggered_by: run.triggered_by_name,
      url: runUrl(publicUrl, run.id),
    },
    jobs: Object.fromEntries(jobs.map((job) => [job.name, { status: job.status, outputs: job.outputs }])),
    secrets,
  };
}
