// Run parameters: declared ones only, required ones present, defaults filled in, every value a string.
import { AppError, type Problem } from '../errors.js';
import type { Workflow } from './workflow-spec.js';

export function resolveParams(workflow: Workflow, given: Record<string, unknown>): Record<string, string> {
  const problems: Problem[] = [];
  const declared = new Map((workflow.params ?? []).map((param) => [param.name, param]));
  for (const name of Object.keys(given)) {
    if (!declared.has(name)) {
      const known = [...declared.keys()].join(', ') || 'none';
      problems.push({
        path: `params.${name}`,
        message: `${workflow.name} has no param ${name} (it has: ${known})`,
      });
    }
  }
  const resolved: Record<string, string> = {};
  for (const param of declared.values()) {
    const value = given[param.name];
    if (value === undefined || value === null || value === '') {
      if (param.default !== undefined) resolved[param.name] = param.default;
      else if (param.required)
        problems.push({ path: `params.${param.name}`, message: `${param.name} is required` });
      else resolved[param.name] = '';
    } else if (typeof value === 'object') {
      problems.push({
        path: `params.${param.name}`,
        message: `${param.name} must be a string, number or boolean`,
      });
    } else {
      resolved[param.name] = String(value);
    }
  }
  if (problems.length > 0) {
    throw new AppError(
      'validation_failed',
      `The run's params are not valid: ${problems.map((p) => p.message).join('; ')}.`,
      {
        problems,
      },
    );
  }
  return resolved;
}
