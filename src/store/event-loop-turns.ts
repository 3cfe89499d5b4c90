// PGlite runs PostgreSQL on our own thread, and each query it answers resolves as a microtask, so a burst of
// queued queries (fifty runs finishing at once) is answered back to back without the event loop ever getting
// a turn: measured, 8.5 s in which no timer fired and no HTTP request went out or was answered. So statements
// go to PGlite one at a time through a line of our own, and the line waits for a turn of the event loop
// whenever it has kept the loop from one for longer than a slice: sockets and timers keep moving under any
// load, and the cost is one setImmediate per slice, not per query.
//
// The line mirrors PGlite's own transaction lock (root statements and whole transactions, one at a time;
// statements inside a transaction do not queue), so it adds no wait PGlite would not impose anyway.

/** How long statements may keep the event loop busy before the next one waits for a turn. */
const sliceMs = 20;

/** Returns a promise to await when the loop is due a turn, otherwise nothing (no microtask spent). */
export function createTurnTaker(slice = sliceMs): () => Promise<void> | undefined {
  // Set when a stretch of work without a turn begins; cleared by the turn itself (a setImmediate callback
  // runs only once the loop got round to it).
  let stretchStart: number | undefined;
  const turnCame = () => {
    stretchStart = undefined;
  };
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  return function takeTurnIfDue() {
    const now = performance.now();
    if (stretchStart === undefined) {
      stretchStart = now;
      setImmediate(turnCame);
      return undefined;
    }
    if (now - stretchStart < slice) return undefined;
    return nextTurn();
  };
}

/** Runs work one at a time, in the order it came, giving the event loop a turn every slice. */
export function createTurnTakingLine(slice = sliceMs): <T>(work: () => Promise<T>) => Promise<T> {
  const takeTurnIfDue = createTurnTaker(slice);
  let last: Promise<unknown> = Promise.resolve();
  return (work) => {
    const result = last.then(async () => {
      await takeTurnIfDue();
      return work();
    });
    last = result.catch(() => undefined);
    return result;
  };
}
