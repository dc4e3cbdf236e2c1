import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlobRepo } from '../../../src/db/blobs.js';
import type { BlobRecord } from '../../../src/db/records.js';
import { openSqlite } from '../../../src/db/sqlite.js';

const DAY = 24 * 60 * 60 * 1000;

function repoWithContainer(): BlobRepo {
  const db = openSqlite(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-retention-')), 'metadata.sqlite'));
  const repo = new BlobRepo(db);
  repo.createContainer({ account: 'acct', name: 'c', created: 0, lastModified: 0, etag: '"0"', metadata: {}, signedIdentifiers: [] });
  return repo;
}

function blob(name: string, content: string): BlobRecord {
  return { account: 'acct', container: 'c', name, created: 1, lastModified: 1, etag: '"1"', size: 1, metadata: {}, extents: [{ id: content, size: 1 }] };
}

describe('delete retention', () => {
  it('keeps a soft-deleted blob and its snapshots until they expire, then lets their content go', async () => {
    const repo = repoWithContainer();
    const key = { account: 'acct', container: 'c', name: 'kept' };
    await repo.commitBlob(blob('kept', 'content-a'), ['content-a']);
    repo.snapshotBlob('acct', 'c', 'kept', () => '2026-12-02T00:00:00.0000000Z', undefined);
    const now = Date.now();
    const soft = { deletedTime: now, expires: now + 7 * DAY };
    const orphans = await repo.deleteBlob('acct', 'c', 'kept', undefined, 'include', { retire: { kind: 'deleted', ...soft }, soft });
    expect(orphans).toEqual([]);
    expect(repo.getBlob('acct', 'c', 'kept')).toBeUndefined();
    expect(repo.deletedOf(key)).toHaveLength(1);
    expect(repo.snapshotsOf('acct', 'c', 'kept', true)).toHaveLength(1);

    // A day before expiry nothing goes; after it, the content is orphaned exactly once.
    expect(repo.purgeExpired(now + 6 * DAY)).toEqual([]);
    expect(repo.purgeExpired(now + 7 * DAY)).toEqual(['content-a']);
    expect(repo.deletedOf(key)).toEqual([]);
    expect(repo.snapshotsOf('acct', 'c', 'kept', true)).toEqual([]);
    expect(repo.undeleteBlob(key)).toBe(false);
  });

  it('lets a soft-deleted version go without touching the content the blob still uses', async () => {
    const repo = repoWithContainer();
    const key = { account: 'acct', container: 'c', name: 'versioned' };
    await repo.commitBlob({ ...blob('versioned', 'content-b'), versionId: '2026-12-01T00:00:00.0000000Z' }, ['content-b']);
    // Set Blob Metadata under versioning: the blob keeps its content, and a version shares it.
    await repo.updateBlob(blob('versioned', 'content-b'), undefined, () => '2026-12-02T00:00:00.0000000Z');
    const now = Date.now();
    expect(repo.deleteVersion(key, '2026-12-01T00:00:00.0000000Z', { deletedTime: now, expires: now + DAY })).toEqual([]);
    expect(repo.getVersion(key, '2026-12-01T00:00:00.0000000Z')).toBeUndefined();
    expect(repo.purgeExpired(now + DAY)).toEqual([]);
    expect(repo.versionsOf(key, true)).toEqual([]);
    expect(await repo.deleteBlob('acct', 'c', 'versioned')).toEqual(['content-b']);
  });
});
