import { describe, expect, it, vi } from 'vitest';
import { VerifiedSasCache } from '../../../src/storage/auth/verified-sas-cache.js';
import type { AccountKeys, OperationAccess } from '../../../src/storage/auth/types.js';

const keys = (): AccountKeys => ({ account: 'acct', keys: [Buffer.alloc(64, 1), Buffer.alloc(64, 2)], allowSharedKeyAccess: true });
const READ: OperationAccess = { permissions: 'r', resourceType: 'o', scope: 'object' };
const WRITE: OperationAccess = { permissions: 'w', resourceType: 'o', scope: 'object' };
const outcome = { kind: 'sas' as const, keyIndex: 0 as const, responseOverrides: {} };
const query = (params: Record<string, string>) => new URLSearchParams({ sv: '2025-11-05', sig: 'x', ...params });

describe('VerifiedSasCache', () => {
  it('answers the same URL, keys and access inside the time window only', () => {
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    try {
      const cache = new VerifiedSasCache();
      const current = keys();
      cache.remember('u', current, READ, query({ st: '2029-12-31T00:00:00Z', se: '2030-01-01T01:00:00Z' }), outcome);
      expect(cache.get('u', current, READ)).toBe(outcome);
      expect(cache.get('other', current, READ)).toBeUndefined();
      expect(cache.get('u', current, WRITE)).toBeUndefined();
      // A key change replaces the key ring's record: nothing verified with the old one holds.
      expect(cache.get('u', keys(), READ)).toBeUndefined();
      vi.setSystemTime(new Date('2030-01-01T01:00:00Z'));
      expect(cache.get('u', current, READ)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('never keeps tokens bound to a caller IP or a stored access policy', () => {
    const cache = new VerifiedSasCache();
    const current = keys();
    cache.remember('ip', current, READ, query({ se: '2999-01-01T00:00:00Z', sip: '127.0.0.1' }), outcome);
    cache.remember('policy', current, READ, query({ si: 'readers' }), outcome);
    expect(cache.get('ip', current, READ)).toBeUndefined();
    expect(cache.get('policy', current, READ)).toBeUndefined();
  });
});
