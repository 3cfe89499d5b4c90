// Validation as the author types: the server's own parser (POST /api/workflows/validate) checks the text
// once typing pauses for 400 ms, so the console shows exactly what a save would refuse.
import { useEffect, useState } from 'react';
import { ApiError, api, type Problem } from '../../api';
import { lineOfPath } from './yaml-document';

export interface Checked {
  /** The text these problems are about (a newer text may be waiting for its check). */
  source: string;
  problems: Problem[];
}

const debounceMs = 400;

/** Gives each problem a line: the server's, or the line its path points at in this text. */
export function placeProblems(source: string, problems: Problem[]): Problem[] {
  return problems.map((problem) => {
    if (problem.line !== undefined) return problem;
    const line = lineOfPath(source, problem.path);
    return line === undefined ? problem : { ...problem, line };
  });
}

export function useValidation(source: string): {
  checked: Checked | undefined;
  error: ApiError | undefined;
  /** Shows problems that came from elsewhere (a refused save) until the next check. */
  show: (checked: Checked) => void;
} {
  const [checked, setChecked] = useState<Checked>();
  const [error, setError] = useState<ApiError>();
  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(async () => {
      try {
        const verdict = await api<{ valid: boolean; problems: Problem[] }>('/api/workflows/validate', {
          body: source,
          signal: controller.signal,
        });
        setChecked({ source, problems: placeProblems(source, verdict.problems) });
        setError(undefined);
      } catch (caught) {
        if ((caught as Error).name === 'AbortError') return;
        setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught)));
      }
    }, debounceMs);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [source]);
  return { checked, error, show: setChecked };
}
