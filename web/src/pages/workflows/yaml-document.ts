// The workflow document as the browser reads it with `yaml`: the outline the diagram draws, the line a
// problem's path points at, and the form editor's job written into the text with its comments kept.
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';

export interface OutlineJob {
  name: string;
  type: string;
  /** Approvals: where they are decided (native, feishu, lark, dingtalk, wecom). */
  platform?: string;
  /** Approvals: how many people are asked (all nodes together). */
  approvers?: number;
  /** Notifications: the channel (feishu_app, dingtalk_robot, …). */
  channel?: string;
  /** Notifications: the group chat id, when there is one. */
  chat?: string;
  /** Notifications: how many people it goes to directly. */
  recipients?: number;
}

export interface OutlineStage {
  name: string;
  jobs: OutlineJob[];
}

export interface Outline {
  name: string | undefined;
  stages: OutlineStage[];
}

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string | undefined =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;

/** The stages and jobs of the document, or undefined when it is not YAML yet (mid-typing). */
export function readOutline(source: string): Outline | undefined {
  const doc = parseDocument(source);
  if (doc.errors.length > 0) return undefined;
  let value: Record<string, unknown>;
  try {
    value = record(doc.toJS({ maxAliasCount: 100 }));
  } catch {
    return undefined;
  }
  return {
    name: text(value.name),
    stages: list(value.stages).map((stage, index) => ({
      name: text(record(stage).name) ?? `#${index + 1}`,
      jobs: list(record(stage).jobs).map((job) => outlineJob(record(job))),
    })),
  };
}

function outlineJob(job: Record<string, unknown>): OutlineJob {
  const spec = record(job.spec);
  const outline: OutlineJob = { name: text(job.name) ?? '?', type: text(job.type) ?? '?' };
  if (outline.type === 'approval') {
    const platform = text(spec.type);
    if (platform) outline.platform = platform;
    outline.approvers =
      platform === 'native' || Array.isArray(spec.approvers)
        ? list(spec.approvers).length
        : list(spec.nodes).reduce<number>((sum, node) => sum + list(record(node).approvers).length, 0);
  }
  if (outline.type === 'notification') {
    const channel = text(spec.channel);
    if (channel) outline.channel = channel;
    const chat = text(spec.chat);
    if (chat) outline.chat = chat;
    if (Array.isArray(spec.to)) outline.recipients = spec.to.length;
  }
  return outline;
}

/** `stages[0].jobs[1].spec.env.GOOS` or `headers["X-Team"]` → its segments. */
export function splitPath(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const match of path.matchAll(/\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\.?([^.[\]]+)/g)) {
    if (match[1] !== undefined) segments.push(Number(match[1]));
    else if (match[2] !== undefined) segments.push(JSON.parse(`"${match[2]}"`) as string);
    else if (match[3] !== undefined) segments.push(match[3]);
  }
  return segments;
}

/**
 * The line a problem's path points at, for problems the server gives without one (e.g. "the document is
 * named x but the URL says y"). Falls back to the nearest parent that exists.
 */
export function lineOfPath(source: string, path: string): number | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter });
  if (doc.errors.length > 0 || !path) return undefined;
  const segments = splitPath(path);
  for (let length = segments.length; length > 0; length--) {
    const node = doc.getIn(segments.slice(0, length), true) as Node | undefined;
    if (node && typeof node === 'object' && 'range' in node && node.range)
      return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** The names of the stages, and of every job, as typed (for the form editor's choices and checks). */
export function documentNames(source: string): { stages: string[]; jobs: string[] } {
  const outline = readOutline(source);
  return {
    stages: outline?.stages.map((stage) => stage.name) ?? [],
    jobs: outline?.stages.flatMap((stage) => stage.jobs.map((job) => job.name)) ?? [],
  };
}

export class DocumentNotReadable extends Error {}

/**
 * Adds `job` at the end of the stage named `stage` (a new stage at the end when there is none), keeping
 * the rest of the document, its comments included, as written. `names` maps vendor user and chat ids to
 * their names, written as comments beside the ids so the YAML stays readable. Returns the new text and the line
 * the job starts on.
 */
export function addJob(
  source: string,
  stage: string,
  job: Record<string, unknown>,
  names: Record<string, string> = {},
): { source: string; line: number } {
  const doc = parseDocument(source);
  if (doc.errors.length > 0) throw new DocumentNotReadable(doc.errors[0]!.message);
  if (!isMap(doc.contents)) throw new DocumentNotReadable('the document is not a mapping');
  let stages = doc.get('stages', true);
  if (!isSeq(stages)) {
    stages = doc.createNode([]);
    doc.set('stages', stages);
  }
  if (!isSeq(stages)) throw new DocumentNotReadable('stages is not a list');
  const jobNode = doc.createNode(job) as YAMLMap;
  nameIds(jobNode, names);
  let stageIndex = stages.items.findIndex((item) => isMap(item) && item.get('name') === stage);
  if (stageIndex === -1) {
    stages.add(doc.createNode({ name: stage, jobs: [] }));
    stageIndex = stages.items.length - 1;
  }
  const stageNode = stages.items[stageIndex] as YAMLMap;
  let jobs: unknown = stageNode.get('jobs', true);
  if (!isSeq(jobs)) {
    jobs = doc.createNode([]);
    stageNode.set('jobs', jobs);
  }
  if (!isSeq(jobs)) throw new DocumentNotReadable('jobs is not a list');
  jobs.add(jobNode);
  const jobIndex = jobs.items.length - 1;
  // lineWidth 0: never fold the author's long lines.
  const next = doc.toString({ lineWidth: 0 });

  const lineCounter = new LineCounter();
  const written = parseDocument(next, { lineCounter });
  const node = written.getIn(['stages', stageIndex, 'jobs', jobIndex], true) as Node | undefined;
  const line = node?.range ? lineCounter.linePos(node.range[0]).line : 1;
  return { source: next, line };
}

/** Puts `# <name>` after every `id: <user id>` and `chat: <chat id>` whose name we know. */
function nameIds(node: unknown, names: Record<string, string>): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (
        isScalar(pair.key) &&
        (pair.key.value === 'id' || pair.key.value === 'chat') &&
        isScalar(pair.value)
      ) {
        const name = names[String(pair.value.value)];
        // A comment ends at the line's end, so a name can never spill into the document.
        if (name) pair.value.comment = ` ${name.replace(/\s+/g, ' ')}`;
      } else nameIds(pair.value, names);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) nameIds(item, names);
  }
}
