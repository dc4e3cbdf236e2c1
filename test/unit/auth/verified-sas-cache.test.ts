import { describe, expect, it, vi } from 'vitest';
import { VerifiedSasCache } from '../../../src/storage/auth/verified-sas-cache.js';
import type { AccountKeys, OperationAccess } from '../../../src/storage/auth/types.js';

const keys = (account = 'acct'): AccountKeys => ({ account, keys: [Buffer.alloc(64, 1), Buffer.alloc(64, 2)], allowSharedKeyAccess: true, defaultAccessTier: 'Hot' });
const READ: OperationAccess = { permissions: 'r', resourceType: 'o', scope: 'object' };
const WRITE: OperationAccess = { permissions: 'w', resourceType: 'o', scope: 'object' };
const outcome = { kind: 'sas' as const, keyIndex: 0 as const, responseOverrides: {} };
const query = (params: Record<string, string>) => new URLSearchParams({ sv: '2025-11-05', sig: 'x', ...params });
const FOREVER = query({ se: '2999-01-01T00:00:00Z' });

describe('VerifiedSasCache', () => {
  it('answers the same signature, URL, keys and access inside the time window only', () => {
    vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    try {
      const cache = new VerifiedSasCache();
      const current = keys();
      cache.remember('sig', 'u', current, READ, query({ st: '2029-12-31T00:00:00Z', se: '2030-01-01T01:00:00Z' }), outcome);
      expect(cache.get('sig', 'u', current, READ)).toBe(outcome);
      expect(cache.get('sig', 'other', current, READ)).toBeUndefined();
      expect(cache.get('other', 'u', current, READ)).toBeUndefined();
      expect(cache.get('sig', 'u', current, WRITE)).toBeUndefined();
      // A key change replaces the key ring's record: nothing verified with the old one holds.
      expect(cache.get('sig', 'u', keys(), READ)).toBeUndefined();
      vi.setSystemTime(new Date('2030-01-01T01:00:00Z'));
      expect(cache.get('sig', 'u', current, READ)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('never keeps tokens bound to a caller IP or a stored access policy', () => {
    const cache = new VerifiedSasCache();
    const current = keys();
    cache.remember('sig', 'ip', current, READ, query({ se: '2999-01-01T00:00:00Z', sip: '127.0.0.1' }), outcome);
    cache.remember('sig', 'policy', current, READ, query({ si: 'readers' }), outcome);
    expect(cache.get('sig', 'ip', current, READ)).toBeUndefined();
    expect(cache.get('sig', 'policy', current, READ)).toBeUndefined();
  });

  it('lets endless URLs of one signature displace only that signature, and one account only its own entries', () => {
    const cache = new VerifiedSasCache();
    const account = keys();
    const other = keys('other');
    cache.remember('honest', 'u', account, READ, FOREVER, outcome);
    cache.remember('honest', 'u', other, READ, FOREVER, outcome);
    for (let i = 0; i < 100_000; i++) cache.remember('leaked', `u&junk=${i}`, account, READ, FOREVER, outcome);
    expect(cache.get('honest', 'u', account, READ)).toBe(outcome);
    expect(cache.get('leaked', 'u&junk=99999', account, READ)).toBe(outcome);
    // Only new signatures (the account's key) can fill the account, and still not another account.
    for (let i = 0; i < 20_000; i++) cache.remember(`minted${i}`, 'u', account, READ, FOREVER, outcome);
    expect(cache.get('honest', 'u', other, READ)).toBe(outcome);
  });
});
