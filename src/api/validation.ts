// Turns zod's request-validation result into our error body, listing every problem with its field path.
import type { Hook } from '@hono/zod-openapi';
import { AppError, type Problem } from '../errors.js';

// biome-ignore lint/suspicious/noExplicitAny: the hook serves every route, whatever its input type.
export const validationHook: Hook<any, any, any, any> = (result) => {
  if (result.success) return;
  const problems: Problem[] = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }));
  throw new AppError(
    'validation_failed',
    `The request is not valid: ${problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ')}.`,
    { problems },
  );
};
