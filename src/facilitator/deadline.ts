/**
 * Deadlines of the built-in facilitator's calls: the gateway's `verifyTimeoutMs` and
 * `settleTimeoutMs` bound an in-process verify/settle exactly as they bound an HTTP round trip.
 */

/** The work's value, or `late` when the deadline passed first (the work keeps running). */
export type Raced<T> = { readonly kind: 'done'; readonly value: T } | { readonly kind: 'late' };

/**
 * Race `work` against `ms` (no deadline when undefined). A rejection of `work` is passed on when it
 * comes first, and swallowed after the deadline (the caller has answered by then).
 */
export async function within<T>(ms: number | undefined, work: Promise<T>): Promise<Raced<T>> {
  if (ms === undefined) return { kind: 'done', value: await work };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Raced<T>>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'late' }), ms);
  });
  try {
    return await Promise.race([work.then((value): Raced<T> => ({ kind: 'done', value })), late]);
  } finally {
    clearTimeout(timer);
  }
}
