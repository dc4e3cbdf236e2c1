import { randomBytes } from 'node:crypto';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  ContainerSASPermissions,
  StorageSharedKeyCredential,
  generateAccountSASQueryParameters,
  generateBlobSASQueryParameters,
} from '@azure/storage-blob';
import { ShareSASPermissions, StorageSharedKeyCredential as FileSharedKeyCredential, generateFileSASQueryParameters } from '@azure/storage-file-share';
import { describe, expect, it } from 'vitest';
import { readHeldSas, reissueSas } from '../../../src/rotation/sas-token.js';

const ACCOUNT = 'sasaccount';
const [key1, key2, other] = [0, 1, 2].map(() => randomBytes(64).toString('base64')) as [string, string, string];
const keys = [Buffer.from(key1, 'base64'), Buffer.from(key2, 'base64')] as const;
const blobScope = { account: ACCOUNT, service: 'blob' as const, container: 'data' };
const expiresOn = new Date(Date.now() + 3600_000);

function containerSas(key: string, container = 'data'): string {
  return generateBlobSASQueryParameters(
    { containerName: container, permissions: ContainerSASPermissions.parse('rwl'), expiresOn, startsOn: new Date(Date.now() - 60_000) },
    new StorageSharedKeyCredential(ACCOUNT, key),
  ).toString();
}

describe('which key signed a SAS held by a datastore', () => {
  it('tells key1, key2 and neither apart for container SAS the official SDK signs', () => {
    expect(readHeldSas(containerSas(key1), blobScope, keys)).toMatchObject({ kind: 'service', resource: 'c', signedWith: 0, permissions: 'rwl', expired: false });
    expect(readHeldSas(containerSas(key2), blobScope, keys).signedWith).toBe(1);
    expect(readHeldSas(containerSas(other), blobScope, keys).signedWith).toBe(-1);
  });

  it('reads a SAS for another container than the datastore names as stale: it would not work for it', () => {
    expect(readHeldSas(containerSas(key1, 'elsewhere'), blobScope, keys).signedWith).toBe(-1);
  });

  it('recognizes account SAS and file share SAS', () => {
    const account = generateAccountSASQueryParameters(
      {
        expiresOn,
        permissions: AccountSASPermissions.parse('rwl'),
        resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
        services: AccountSASServices.parse('bf').toString(),
      },
      new StorageSharedKeyCredential(ACCOUNT, key2),
    ).toString();
    expect(readHeldSas(account, blobScope, keys)).toMatchObject({ kind: 'account', resource: 'sco', signedWith: 1 });
    const share = generateFileSASQueryParameters({ shareName: 'files', permissions: ShareSASPermissions.parse('rl'), expiresOn }, new FileSharedKeyCredential(ACCOUNT, key1)).toString();
    expect(readHeldSas(share, { account: ACCOUNT, service: 'file', container: 'files' }, keys)).toMatchObject({ resource: 's', signedWith: 0 });
  });

  it('cannot tell the key of a SAS for one blob (its path is not recorded), and says why', () => {
    const blob = generateBlobSASQueryParameters({ containerName: 'data', blobName: 'a.txt', permissions: ContainerSASPermissions.parse('r'), expiresOn }, new StorageSharedKeyCredential(ACCOUNT, key1)).toString();
    expect(readHeldSas(blob, blobScope, keys)).toMatchObject({ signedWith: undefined, why: expect.stringContaining('sr=b') });
  });

  it('reports an expired SAS as expired, and a malformed signature as stale', () => {
    const expired = generateBlobSASQueryParameters(
      { containerName: 'data', permissions: ContainerSASPermissions.parse('r'), expiresOn: new Date(Date.now() - 1000) },
      new StorageSharedKeyCredential(ACCOUNT, key1),
    ).toString();
    expect(readHeldSas(expired, blobScope, keys)).toMatchObject({ expired: true, signedWith: 0 });
    expect(readHeldSas('sv=2022-11-02&sr=c&sp=r&se=2099-01-01T00:00:00Z&sig=not-a-signature', blobScope, keys).signedWith).toBe(-1);
  });
});

describe('reissuing a SAS with the kept key', () => {
  it('grants exactly what the old one granted, and is signed with the new key', () => {
    const held = readHeldSas(containerSas(key1), blobScope, keys);
    const reissued = readHeldSas(reissueSas(held, blobScope, key2)!, blobScope, keys);
    expect(reissued.signedWith).toBe(1);
    for (const name of ['sr', 'sp', 'st', 'se']) expect(reissued.params.get(name), name).toBe(held.params.get(name));
  });

  it('keeps a stored access policy, an IP range, the protocol and response overrides of a service SAS', () => {
    const token = 'sv=2022-11-02&sr=c&si=policy&sip=10.0.0.1-10.0.0.9&spr=https&rsct=text%2Fplain&sig=' + encodeURIComponent(randomBytes(32).toString('base64'));
    const reissued = new URLSearchParams(reissueSas(readHeldSas(token, blobScope, keys), blobScope, key2)!);
    expect(Object.fromEntries([...reissued].filter(([name]) => name !== 'sig' && name !== 'sv'))).toEqual({ sr: 'c', si: 'policy', sip: '10.0.0.1-10.0.0.9', spr: 'https', rsct: 'text/plain' });
    expect(readHeldSas(reissued.toString(), blobScope, keys).signedWith).toBe(1);
  });

  it('re-signs an account SAS with its services, resource types and permissions', () => {
    const token = generateAccountSASQueryParameters(
      { expiresOn, permissions: AccountSASPermissions.parse('rl'), resourceTypes: 'co', services: 'b' },
      new StorageSharedKeyCredential(ACCOUNT, key1),
    ).toString();
    const reissued = readHeldSas(reissueSas(readHeldSas(token, blobScope, keys), blobScope, key2)!, blobScope, keys);
    expect(reissued).toMatchObject({ kind: 'account', signedWith: 1, permissions: 'rl', resource: 'co' });
    expect(reissued.params.get('ss')).toBe('b');
  });

  it('refuses a SAS with an encryption scope, which it could not reproduce', () => {
    const token = 'sv=2022-11-02&sr=c&sp=r&se=2099-01-01T00:00:00Z&ses=scope&sig=' + encodeURIComponent(randomBytes(32).toString('base64'));
    expect(reissueSas(readHeldSas(token, blobScope, keys), blobScope, key2)).toBeUndefined();
  });
});
