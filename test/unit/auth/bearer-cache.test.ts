import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DirectoryStore, RoleAssignmentRecord } from '../../../src/db/directory.js';
import { TokenService } from '../../../src/management/identity/tokens.js';
import { BearerAuth } from '../../../src/storage/auth/bearer.js';
import { READ_BLOB } from '../../../src/storage/blob/access.js';
import { accountKeys, refusal, storageRequest } from './fixtures.js';

const TENANT = '00000000-0000-4000-8000-0000000000aa';
const SUBSCRIPTION = '00000000-0000-4000-8000-0000000000bb';
const CLIENT = '00000000-0000-4000-8000-0000000000cc';
const BLOB_READER = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1';

/** The directory as the data plane reads it: one principal, whose assignments a test changes. */
function directory(assignments: RoleAssignmentRecord[]): DirectoryStore & { reads: number } {
  const store = {
    reads: 0,
    ids: async () => ({ tenantId: TENANT, subscriptionId: SUBSCRIPTION }),
    getPrincipal: async (clientId: string) => (clientId === CLIENT ? { clientId, displayName: 'reader', secretHash: '', created: 0 } : undefined),
    async listAssignments() {
      store.reads++;
      return assignments;
    },
  };
  return store as unknown as DirectoryStore & { reads: number };
}

describe('BearerAuth caches', () => {
  let dataDir: string;
  let tokens: TokenService;
  const keys = { ...accountKeys(), resourceGroup: 'rg' };
  const request = () => storageRequest({ method: 'GET', url: `/${keys.account}/data/a.txt`, headers: { host: '127.0.0.1', 'x-ms-version': '2025-11-05' } }, { protocol: 'https' });
  const reader: RoleAssignmentRecord = { name: 'a', scope: `/subscriptions/${SUBSCRIPTION}`, roleDefinitionId: BLOB_READER, principalId: CLIENT, principalType: 'ServicePrincipal', created: 0 };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-bearer-'));
    tokens = await TokenService.open(dataDir, TENANT);
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  afterEach(() => vi.useRealTimers());

  /** A storage token of this server's key that expires in `seconds`. */
  async function token(seconds: number): Promise<string> {
    const key = createPrivateKey(fs.readFileSync(path.join(dataDir, 'identity', 'token-signing.key'), 'utf8'));
    return new SignJWT({ tid: TENANT })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(`https://127.0.0.1/${TENANT}/v2.0`)
      .setSubject(CLIENT)
      .setAudience('https://storage.azure.com')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
      .sign(key);
  }

  it('a verified token until it expires, never after: then it is verified again, and refused', async () => {
    const auth = new BearerAuth(tokens, directory([reader]), { tenantId: TENANT, subscriptionId: SUBSCRIPTION });
    const bearer = await token(60);
    expect(await auth.authenticate(request(), keys, READ_BLOB, `Bearer ${bearer}`)).toMatchObject({ kind: 'bearer', principalId: CLIENT });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000 + 5_000);
    const error = await refusal(() => auth.authenticate(request(), keys, READ_BLOB, `Bearer ${bearer}`));
    expect([error.status, error.code]).toEqual([401, 'InvalidAuthenticationInfo']);
    expect(error.details.AuthenticationErrorDetail).toContain('expired');
  });

  it("a principal's roles until forget(), which every node runs when an assignment changes", async () => {
    const assignments = [reader];
    const store = directory(assignments);
    const auth = new BearerAuth(tokens, store, { tenantId: TENANT, subscriptionId: SUBSCRIPTION });
    const bearer = await token(600);
    for (let i = 0; i < 3; i++) await auth.authenticate(request(), keys, READ_BLOB, `Bearer ${bearer}`);
    expect(store.reads).toBe(1);
    assignments.pop();
    // Still cached: the change has not been announced.
    await auth.authenticate(request(), keys, READ_BLOB, `Bearer ${bearer}`);
    auth.forget();
    const error = await refusal(() => auth.authenticate(request(), keys, READ_BLOB, `Bearer ${bearer}`));
    expect([error.status, error.code]).toEqual([403, 'AuthorizationPermissionMismatch']);
    expect(store.reads).toBe(2);
  });
});
