// An API error as the user needs it: the server's message (it says what to fix), its code, and each
// field problem with its line where there is one.
import type { ApiError } from '../api';

export function ErrorNotice({ error, title }: { error: ApiError | undefined; title?: string }) {
  if (!error) return null;
  return (
    <div className="notice notice-error" role="alert">
      {title && <strong>{title} </strong>}
      <span>{error.message}</span> <code className="error-code">{error.code}</code>
      {error.problems.length > 0 && (
        <ul>
          {error.problems.map((problem) => (
            <li key={`${problem.path}:${problem.line ?? ''}:${problem.message}`}>
              {problem.line !== undefined && <span>line {problem.line}: </span>}
              <code>{problem.path}</code> {problem.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
