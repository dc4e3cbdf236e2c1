/**
 * Whether a failure is the disk (or its quota) being full: a file write's
 * ENOSPC or EDQUOT, SQLite's SQLITE_FULL, or PostgreSQL's disk_full (53100).
 * Such a request changed nothing (content files are removed, the transaction
 * rolled back), so the answer can tell the operator what to do instead of
 * a bare internal error.
 */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL' || code === '53100';
}

/** The answer's message for a request that failed on a full disk. */
export const DISK_FULL_MESSAGE =
  "The server's disk is full, so this request stored nothing. Free space on the disk that holds mlspace's data directory " +
  '(or delete blobs, files or snapshots), then retry the request.';
