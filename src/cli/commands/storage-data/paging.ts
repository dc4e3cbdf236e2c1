/** The most items the storage services return in one page. */
const SERVICE_PAGE = 5000;

interface Page {
  continuationToken?: string;
}

/**
 * Lists up to `limit` items from `marker` on, a page at a time, as az's
 * `--num-results` and `--marker` do; `nextMarker` is where a further listing
 * would go on from, when there is more.
 */
export async function listUpTo<P extends Page, T>(
  open: (continuationToken: string | undefined, maxPageSize: number) => AsyncIterableIterator<P>,
  itemsOf: (page: P) => T[],
  limit: number,
  marker: string | undefined,
): Promise<{ items: T[]; nextMarker?: string }> {
  const items: T[] = [];
  let token = marker;
  do {
    const { value: page, done } = await open(token, Math.min(SERVICE_PAGE, limit - items.length)).next();
    if (done || !page) break;
    items.push(...itemsOf(page));
    token = page.continuationToken || undefined;
  } while (token && items.length < limit);
  return { items, nextMarker: token };
}

/** az's report of a listing that stopped before the end: a warning naming the marker, or with --show-next-marker, an item. */
export function withNextMarker<T>(items: T[], nextMarker: string | undefined, showNextMarker: boolean | undefined): (T | { nextMarker: string | null })[] {
  if (showNextMarker) return [...items, { nextMarker: nextMarker ?? null }];
  if (nextMarker) process.stderr.write(`WARNING: Next Marker:\nWARNING: ${nextMarker}\n`);
  return items;
}
