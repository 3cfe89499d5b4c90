// Follows a vendor's page tokens to the end. A listing is either complete or an error: never silently
// the first page (Zadig's W10).
import { AppError } from '../errors.js';

export async function allPages<T, C>(
  what: string,
  fetchPage: (cursor: C | undefined) => Promise<{ items: T[]; next: C | undefined }>,
  maxPages = 1000,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: C | undefined;
  for (let page = 0; page < maxPages; page++) {
    const result = await fetchPage(cursor);
    items.push(...result.items);
    if (result.next === undefined || result.next === null || result.next === '') return items;
    if (result.next === cursor)
      throw new AppError('upstream_error', `${what}: the vendor returned the same page token twice.`);
    cursor = result.next;
  }
  throw new AppError(
    'upstream_error',
    `${what}: more than ${maxPages} pages; refusing to return a partial list.`,
  );
}
