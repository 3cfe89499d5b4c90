// Workflows: the document as written (source) and its validated form (spec).
import type { Workflow } from '../engine/workflow-spec.js';
import { AppError } from '../errors.js';
import type { Queryable } from './db.js';
import { newId } from './ids.js';

export interface WorkflowRecord {
  id: string;
  name: string;
  source: string;
  spec: Workflow;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** Creates the workflow, or replaces the one with the same name (a new version). */
export async function saveWorkflow(
  db: Queryable,
  source: string,
  spec: Workflow,
): Promise<{ workflow: WorkflowRecord; created: boolean }> {
  const [row] = await db.query<WorkflowRecord & { inserted: boolean }>(
    `insert into workflows (id, name, source, spec) values ($1, $2, $3, $4)
     on conflict (name) do update set source = excluded.source, spec = excluded.spec,
       version = workflows.version + 1, updated_at = now()
     returning *, (xmax = 0) as inserted`,
    [newId('wf'), spec.name, source, JSON.stringify(spec)],
  );
  const { inserted, ...workflow } = row!;
  return { workflow, created: inserted };
}

export async function listWorkflows(db: Queryable): Promise<WorkflowRecord[]> {
  return db.query<WorkflowRecord>('select * from workflows order by name');
}

export async function findWorkflow(db: Queryable, name: string): Promise<WorkflowRecord | undefined> {
  const [row] = await db.query<WorkflowRecord>('select * from workflows where name = $1', [name]);
  return row;
}

export async function getWorkflow(db: Queryable, name: string): Promise<WorkflowRecord> {
  const workflow = await findWorkflow(db, name);
  if (!workflow)
    throw new AppError('not_found', `No workflow named ${name}. List them with \`signoff workflows\`.`);
  return workflow;
}

export async function deleteWorkflow(db: Queryable, name: string): Promise<boolean> {
  const rows = await db.query('delete from workflows where name = $1 returning id', [name]);
  return rows.length > 0;
}
