// A clock that ticks every second while something on the page is still running (durations, deadlines).
import { useEffect, useState } from 'react';

export function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ticking]);
  return now;
}

/**
 * How long something has been going: the server's figure at the time it answered, plus the time since.
 * Adding to the server's own figure keeps a wrong clock in the browser out of it.
 */
export function elapsed(
  durationMs: number | null,
  finishedAt: string | null,
  receivedAt: number,
  now: number,
): number | null {
  if (durationMs === null) return null;
  return finishedAt ? durationMs : durationMs + Math.max(0, now - receivedAt);
}
