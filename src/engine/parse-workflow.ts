// Turns a workflow document (YAML or JSON) into a complete `Workflow`, or into every problem in it at once,
// each pointing at the line and column an author has to change.
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { Problem } from '../errors.js';
import { formatPath, type Workflow, workflowSchema } from './workflow-spec.js';
import { translateZadigApprovals } from './zadig-approval.js';

export type ParseWorkflowResult = { ok: true; workflow: Workflow } | { ok: false; problems: Problem[] };

type Path = readonly PropertyKey[];

// Zod's own texts ("Invalid input: expected string, received number") don't name the field. A per-parse
// error map has the lowest precedence, so this marker only replaces messages the schema did not write
// itself; describeIssue then words those with the full path in hand.
const generic = '\u0000generic';

export function parseWorkflow(source: string, format: 'yaml' | 'json' = 'yaml'): ParseWorkflowResult {
  const lineCounter = new LineCounter();
  // The `json` schema refuses YAML-only scalars (`foo` unquoted, `yes`), so a `.json` file is held to JSON.
  const doc = parseDocument(source, {
    lineCounter,
    prettyErrors: false,
    schema: format === 'json' ? 'json' : 'core',
  });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return {};
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  // Past a syntax error the tree is a guess, and checking a guess buries the real mistake under invented ones.
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: sortByPosition(
        doc.errors.map((error) => ({
          path: '',
          message: `${format === 'json' ? 'JSON' : 'YAML'} syntax error: ${error.message}`,
          ...at(error.pos[0]),
        })),
      ),
    };
  }

  keepSourceText(doc);
  let value: unknown;
  try {
    value = translateZadigApprovals(doc.toJS());
  } catch (error) {
    // yaml refuses documents whose aliases would expand without bound ("billion laughs").
    return {
      ok: false,
      problems: [{ path: '', message: error instanceof Error ? error.message : String(error) }],
    };
  }
  const result = workflowSchema.safeParse(value, { reportInput: true, error: () => generic });
  if (result.success) return { ok: true, workflow: result.data };

  const problems = result.error.issues.flatMap((issue): Problem[] => {
    if (issue.code === 'unrecognized_keys') {
      // One problem per key, on the key itself: that is the text to delete or retype.
      return issue.keys.map((key) => {
        const path = [...issue.path, key];
        return {
          path: formatPath(path),
          message: `unknown field \`${key}\`; remove it or check its spelling`,
          ...at(locate(doc, path, 'key')),
        };
      });
    }
    const target = issue.code === 'invalid_key' ? 'key' : 'value';
    return [
      { path: formatPath(issue.path), message: describeIssue(issue), ...at(locate(doc, issue.path, target)) },
    ];
  });
  return { ok: false, problems: sortByPosition(problems) };
}

// Param defaults, env and header values are text. YAML reads `1.10` as the number 1.1 and `0x1F` as 31; the
// author meant the characters they typed, so those scalars keep their source spelling.
function keepSourceText(doc: Document): void {
  const asText = (node: unknown) => {
    if (
      isScalar(node) &&
      (typeof node.value === 'number' || typeof node.value === 'boolean') &&
      node.source
    ) {
      node.value = node.source;
    }
  };
  const eachItem = (node: unknown, visit: (item: unknown) => void) => {
    if (isSeq(node) || isMap(node)) for (const item of node.items) visit(item);
  };
  eachItem(doc.getIn(['params'], true), (param) => {
    if (isMap(param)) asText(param.get('default', true));
  });
  eachItem(doc.getIn(['stages'], true), (stage) => {
    if (!isMap(stage)) return;
    eachItem(stage.get('jobs', true), (job) => {
      if (!isMap(job)) return;
      for (const field of ['env', 'headers']) {
        const map = job.getIn(['spec', field], true);
        if (isMap(map)) for (const pair of map.items) asText(pair.value);
      }
    });
  });
}

/**
 * Offset of the node at `path`: its value, or with `target: 'key'` the key naming it. When the path does not
 * exist (a missing field) this is the closest existing parent, which is where the field has to be added.
 */
function locate(doc: Document, path: Path, target: 'value' | 'key'): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (!pair) break;
      // An empty value (`script:`) has no text of its own; the key is the place to point at.
      const empty = isScalar(pair.value) && pair.value.range?.[0] === pair.value.range?.[1];
      offset = rangeStart(target === 'key' || empty ? pair.key : pair.value) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range?.[0];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sortByPosition(problems: Problem[]): Problem[] {
  // Problems without a position concern the whole document, so they come first.
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

const typeNames: Record<string, string> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function describeType(expected: string): string {
  return typeNames[expected] ?? expected;
}

function receivedType(input: unknown): string {
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'boolean') return 'true or false';
  return `a ${typeof input}`;
}

function fieldLabel(path: Path): string {
  const last = path.at(-1);
  if (last === undefined) return 'the workflow';
  if (typeof last === 'number') return `${String(path.at(-2) ?? 'item')}[${last}]`;
  const parent = path.at(-2);
  return parent === 'env' || parent === 'headers' ? `${parent}.${String(last)}` : String(last);
}

function entries(count: number | bigint): string {
  return Number(count) === 1 ? '1 entry' : `${count} entries`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.message !== generic) return issue.message;
  const label = fieldLabel(issue.path);
  switch (issue.code) {
    case 'invalid_type':
      if (issue.path.length === 0 && (issue.input === undefined || issue.input === null)) {
        return 'the document is empty; a workflow needs at least name and stages';
      }
      if (issue.input === undefined) return `${label} is required`;
      if (issue.input === null) return `${label} has no value; it must be ${describeType(issue.expected)}`;
      return `${label} must be ${describeType(issue.expected)}, not ${receivedType(issue.input)}`;
    case 'invalid_union': {
      // A discriminated union adds these two (not in zod's issue type); the path already ends at the
      // discriminator field, while `input` is the whole object.
      const { discriminator, options } = issue as { discriminator?: unknown; options?: unknown };
      if (typeof discriminator === 'string' && Array.isArray(options)) {
        const value = isRecord(issue.input) ? issue.input[discriminator] : undefined;
        return value === undefined
          ? `${label} is required: one of ${options.join(', ')}`
          : `${label} must be one of ${options.join(', ')}, not \`${String(value)}\``;
      }
      // Every branch rejected the type (`timeout: true`): list what would have been accepted.
      const expected = issue.errors.flatMap((branch) =>
        branch.flatMap((inner) => (inner.code === 'invalid_type' ? [describeType(inner.expected)] : [])),
      );
      return expected.length === issue.errors.length
        ? `${label} must be ${expected.join(' or ')}, not ${receivedType(issue.input)}`
        : `${label} is not valid`;
    }
    case 'invalid_value':
      return `${label} must be ${issue.values.length === 1 ? '' : 'one of '}${issue.values.join(', ')}, not \`${String(issue.input)}\``;
    case 'too_small':
      if (issue.origin === 'array') return `${label} must have at least ${entries(issue.minimum)}`;
      if (issue.origin === 'string') return `${label} must not be empty`;
      return `${label} must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `${label} must have at most ${entries(issue.maximum)}`;
      if (issue.origin === 'string') return `${label} must be at most ${issue.maximum} characters`;
      return `${label} must be at most ${issue.maximum}`;
    case 'invalid_key': {
      const inner = issue.issues[0]?.message;
      return `${inner && inner !== generic ? inner : `${label} is not a valid key`} (got \`${String(issue.path.at(-1))}\`)`;
    }
    default:
      return `${label} is not valid`;
  }
}
