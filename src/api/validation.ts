// Turns zod's request-validation result into our error body, listing every problem with its field path
// and a message that says what to send.
import type { Hook } from '@hono/zod-openapi';
import type { z } from 'zod';
import { AppError, type Problem } from '../errors.js';

function problemsOf(issue: z.core.$ZodIssue): Problem[] {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: path ? `${path}.${key}` : key,
      message: `${key} is not a known field`,
    }));
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return [{ path: path || '(body)', message: `${path || 'the body'} is required` }];
  }
  return [{ path: path || '(body)', message: issue.message }];
}

// biome-ignore lint/suspicious/noExplicitAny: the hook serves every route, whatever its input type.
export const validationHook: Hook<any, any, any, any> = (result) => {
  if (result.success) return;
  const problems = result.error.issues.flatMap(problemsOf);
  throw new AppError(
    'validation_failed',
    `The request is not valid: ${problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ')}.`,
    { problems },
  );
};
