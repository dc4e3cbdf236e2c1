import { describe, expect, it } from 'vitest';
import { armErrors } from '../../src/management/http/errors.js';
import { isDiskFull } from '../../src/storage/http/disk-full.js';
import { errors } from '../../src/storage/http/errors.js';

// The data plane's answer on a real full disk is tested end to end (test/e2e/disk-full.test.ts); a metadata
// store that fails its commit is hard to bring about there (SQLite reuses its log's space), so its codes are here.
describe('isDiskFull', () => {
  it.each([['ENOSPC'], ['EDQUOT'], ['SQLITE_FULL'], ['53100']])('knows %s', (code) => {
    expect(isDiskFull(Object.assign(new Error('full'), { code }))).toBe(true);
  });

  it.each([[new Error('boom')], [Object.assign(new Error('gone'), { code: 'ENOENT' })], [undefined], ['ENOSPC']])('tells other failures apart: %s', (error) => {
    expect(isDiskFull(error)).toBe(false);
  });

  it('gives both planes the same advice, and nothing more for other failures', () => {
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    expect([errors.internal(full).status, errors.internal(full).code, errors.internal(full).message]).toEqual([500, 'InternalError', expect.stringContaining("The server's disk is full")]);
    expect([armErrors.internal(full).status, armErrors.internal(full).code, armErrors.internal(full).message]).toEqual([500, 'InternalServerError', expect.stringContaining("The server's disk is full")]);
    expect(errors.internal(new Error('secret detail')).message).toBe('The server encountered an internal error. Please retry the request.');
    expect(armErrors.internal(new Error('secret detail')).message).toBe('The server encountered an internal error. Please retry the request.');
  });
});
