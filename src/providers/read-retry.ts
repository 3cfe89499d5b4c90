// A read that changes nothing at the vendor can simply be asked again at once. Creating an approval
// instance makes several reads before its one write (the people, and after a lost answer `findInstance`,
// which reads every recent instance of the initiator to find the one carrying our key). Without a retry per
// read, one transient fault among them sent the whole creation back to the queue for 5 s, 10 s, 20 s …, and
// the next search read even more instances (its window reaches up to now): with a vendor failing 10 % of
// calls (test/chaos.test.ts) such a job could use up its tries and fail although nothing was wrong with it.
// Writes are not retried here: the engine's queue does that, after looking for what a lost answer made.
import { isAppError } from '../errors.js';

/** Tries in all, and the longest wait between two (a rate limit may ask for longer: it then fails). */
const tries = 3;
const longestWaitMs = 2_000;

export async function retryRead<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= tries || !isAppError(error) || !error.retryable) throw error;
      const waitMs = Math.min(longestWaitMs, error.retryAfterMs ?? 250 * attempt);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}
