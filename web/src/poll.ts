// Live state by polling: the console re-reads what it shows every second (the issue allows ≤ 1 s), stops
// while the tab is hidden, and never runs two reads of the same thing at once.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** Read again now (after an action). */
  reload: () => Promise<void>;
}

/** Loads once, or every `intervalMs` while `live` is true. */
export function usePoll<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: unknown[],
  options: { intervalMs?: number; live?: boolean } = {},
): Loaded<T> {
  const { intervalMs = 1000, live = false } = options;
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [loading, setLoading] = useState(true);
  const busy = useRef(false);
  const controller = useRef<AbortController | undefined>(undefined);
  // The latest `load` is always used; `deps` say when to start over (clear and read at once).
  const latestLoad = useRef(load);
  latestLoad.current = load;
  const key = JSON.stringify(deps);
  // Each (re)start is a generation: a read begun by an earlier one (aborted on unmount or when deps
  // change) neither shows its result nor keeps the next generation waiting.
  const generation = useRef(0);
  const read = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    const mine = generation.current;
    const abort = new AbortController();
    controller.current = abort;
    try {
      const value = await latestLoad.current(abort.signal);
      if (mine !== generation.current) return;
      setData(value);
      setError(undefined);
    } catch (caught) {
      if (mine !== generation.current || (caught as Error).name === 'AbortError') return;
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught)));
    } finally {
      if (mine === generation.current) {
        busy.current = false;
        setLoading(false);
      }
    }
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` (the caller's deps) restarts the load.
  useEffect(() => {
    setLoading(true);
    setData(undefined);
    void read();
    return () => {
      generation.current += 1;
      busy.current = false;
      controller.current?.abort();
    };
  }, [read, key]);

  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void read();
    }, intervalMs);
    return () => clearInterval(timer);
  }, [read, live, intervalMs]);

  return { data, error, loading, reload: read };
}
