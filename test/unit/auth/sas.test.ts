import { createHmac } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  BlobSASPermissions,
  ContainerSASPermissions,
  SASProtocol,
  StorageSharedKeyCredential,
  generateAccountSASQueryParameters,
  generateBlobSASQueryParameters,
  type BlobSASSignatureValues,
} from '@azure/storage-blob';
import {
  FileSASPermissions,
  ShareSASPermissions,
  StorageSharedKeyCredential as FileSharedKeyCredential,
  generateAccountSASQueryParameters as generateFileAccountSASQueryParameters,
  generateFileSASQueryParameters,
} from '@azure/storage-file-share';
import { authenticate } from '../../../src/storage/auth/authenticate.js';
import type { AccessPolicy, AccessPolicyLookup, OperationAccess } from '../../../src/storage/auth/types.js';
import type { StorageError } from '../../../src/storage/http/errors.js';
import {
  ACCOUNT,
  KEY1,
  KEY2,
  LIST_BLOBS,
  LIST_CONTAINERS,
  READ_BLOB,
  WRITE_BLOB,
  WRONG_KEY,
  accountKeys,
  errorText,
  minutesFromNow,
  noPolicies,
  refusal,
  sasRequest,
  type RequestOptions,
} from './fixtures.js';

const credential = (key = KEY1) => new StorageSharedKeyCredential(ACCOUNT, key);
const BLOB = 'runs/run 1/model.bin';
const BLOB_URL = `/${ACCOUNT}/data/runs/run%201/model.bin`;

/** A blob SAS as the SDK makes it: read, valid from 5 minutes ago for an hour. */
function blobSas(values: Partial<BlobSASSignatureValues> = {}, key = KEY1): string {
  return generateBlobSASQueryParameters(
    {
      containerName: 'data',
      blobName: BLOB,
      permissions: BlobSASPermissions.parse('r'),
      startsOn: minutesFromNow(-5),
      expiresOn: minutesFromNow(60),
      ...values,
    },
    credential(key),
  ).toString();
}

function accountSas(values: { services?: string; resourceTypes?: string; permissions?: string; version?: string } = {}, key = KEY1): string {
  return generateAccountSASQueryParameters(
    {
      services: AccountSASServices.parse(values.services ?? 'b').toString(),
      resourceTypes: AccountSASResourceTypes.parse(values.resourceTypes ?? 'sco').toString(),
      permissions: AccountSASPermissions.parse(values.permissions ?? 'rl'),
      startsOn: minutesFromNow(-5),
      expiresOn: minutesFromNow(60),
      protocol: SASProtocol.HttpsAndHttp,
      ...(values.version && { version: values.version }),
    },
    credential(key),
  ).toString();
}

const check = (url: string, access: OperationAccess = READ_BLOB, options: RequestOptions = {}, lookup: AccessPolicyLookup = noPolicies, keys = accountKeys()) =>
  authenticate(sasRequest(url, options), keys, access, lookup);

const sign = (key: string, stringToSign: string) =>
  createHmac('sha256', Buffer.from(key, 'base64')).update(stringToSign, 'utf8').digest('base64');

/** Every refusal these tests provoke, checked at the end for leaked secrets. */
const refusals: { error: StorageError; url: string }[] = [];
async function refused(
  url: string,
  access: OperationAccess = READ_BLOB,
  options: RequestOptions = {},
  lookup: AccessPolicyLookup = noPolicies,
  keys = accountKeys(),
): Promise<StorageError> {
  const error = await refusal(() => check(url, access, options, lookup, keys));
  refusals.push({ error, url });
  return error;
}

describe('service SAS for blobs, from the official SDK', () => {
  it('accepts a blob SAS signed with key1 or key2, and returns its response header overrides', async () => {
    const overrides = { cacheControl: 'no-cache', contentDisposition: 'attachment', contentType: 'text/plain' };
    expect(await check(`${BLOB_URL}?${blobSas(overrides)}`)).toEqual({ kind: 'sas', keyIndex: 0, responseOverrides: overrides });
    expect(await check(`${BLOB_URL}?${blobSas({}, KEY2)}`)).toEqual({ kind: 'sas', keyIndex: 1, responseOverrides: {} });
  });

  for (const version of ['2026-04-06', '2020-12-06', '2019-12-12', '2018-11-09', '2015-04-05']) {
    it(`accepts signed version ${version}`, async () => {
      const sas = blobSas({ version, protocol: SASProtocol.HttpsAndHttp, ipRange: { start: '127.0.0.1' }, contentLanguage: 'en' });
      expect(await check(`${BLOB_URL}?${sas}`)).toMatchObject({ kind: 'sas', keyIndex: 0 });
    });
  }

  it('accepts an encryption scope (ses, 2020-12-06 and later)', async () => {
    expect(await check(`${BLOB_URL}?${blobSas({ encryptionScope: 'scope1' })}`)).toMatchObject({ kind: 'sas' });
  });

  it('accepts a snapshot SAS (sr=bs) for that snapshot only', async () => {
    const snapshot = '2024-01-01T00:00:00.0000000Z';
    const sas = blobSas({ snapshotTime: snapshot });
    expect(sas).toContain('sr=bs');
    expect(await check(`${BLOB_URL}?snapshot=${encodeURIComponent(snapshot)}&${sas}`)).toMatchObject({ kind: 'sas' });
    expect((await refused(`${BLOB_URL}?${sas}`)).code).toBe('AuthenticationFailed');
  });

  it('accepts a version SAS (sr=bv) for that version only', async () => {
    const versionId = '2024-01-01T00:00:00.1234567Z';
    const sas = blobSas({ versionId });
    expect(sas).toContain('sr=bv');
    expect(await check(`${BLOB_URL}?versionid=${encodeURIComponent(versionId)}&${sas}`)).toMatchObject({ kind: 'sas' });
    expect((await refused(`${BLOB_URL}?versionid=2024-02-02T00%3A00%3A00.0000000Z&${sas}`)).code).toBe('AuthenticationFailed');
  });

  it('accepts a container SAS (sr=c) for every blob in the container and for container operations', async () => {
    const sas = blobSas({ blobName: undefined, permissions: ContainerSASPermissions.parse('rl') });
    expect(sas).toContain('sr=c');
    expect(await check(`${BLOB_URL}?${sas}`)).toMatchObject({ kind: 'sas' });
    expect(await check(`/${ACCOUNT}/data/other.txt?${sas}`)).toMatchObject({ kind: 'sas' });
    expect(await check(`/${ACCOUNT}/data?restype=container&comp=list&${sas}`, LIST_BLOBS)).toMatchObject({ kind: 'sas' });
    expect((await refused(`/${ACCOUNT}/other/a.txt?${sas}`)).code).toBe('AuthenticationFailed');
  });
});

describe('service SAS in the documented older and directory forms', () => {
  const start = minutesFromNow(-5).toISOString().slice(0, 19) + 'Z';
  const expiry = minutesFromNow(60).toISOString().slice(0, 19) + 'Z';
  const query = (fields: Record<string, string>, stringToSign: string, key = KEY1) =>
    new URLSearchParams({ ...fields, sig: sign(key, stringToSign) }).toString();

  it('accepts version 2012-02-12 (resource without the service name, no response headers)', async () => {
    const stringToSign = `r\n${start}\n${expiry}\n/${ACCOUNT}/data/${BLOB}\n\n2012-02-12`;
    const sas = query({ sv: '2012-02-12', sr: 'b', sp: 'r', st: start, se: expiry }, stringToSign, KEY2);
    expect(await check(`${BLOB_URL}?${sas}`)).toMatchObject({ kind: 'sas', keyIndex: 1 });
  });

  it('accepts version 2013-08-15 (with response headers)', async () => {
    const stringToSign = `r\n${start}\n${expiry}\n/${ACCOUNT}/data/${BLOB}\n\n2013-08-15\n\n\n\n\ntext/csv`;
    const sas = query({ sv: '2013-08-15', sr: 'b', sp: 'r', st: start, se: expiry, rsct: 'text/csv' }, stringToSign);
    expect(await check(`${BLOB_URL}?${sas}`)).toEqual({ kind: 'sas', keyIndex: 0, responseOverrides: { contentType: 'text/csv' } });
  });

  it('accepts version 2015-02-21 (resource with the service name)', async () => {
    const stringToSign = `r\n${start}\n${expiry}\n/blob/${ACCOUNT}/data/${BLOB}\n\n2015-02-21\n\n\n\n\n`;
    const sas = query({ sv: '2015-02-21', sr: 'b', sp: 'r', st: start, se: expiry }, stringToSign);
    expect(await check(`${BLOB_URL}?${sas}`)).toMatchObject({ kind: 'sas' });
  });

  it('accepts a directory SAS (sr=d) for paths below that directory only', async () => {
    const stringToSign = `r\n${start}\n${expiry}\n/blob/${ACCOUNT}/data/runs/run 1\n\n\n\n2020-12-06\nd\n\n\n\n\n\n\n`;
    const sas = query({ sv: '2020-12-06', sr: 'd', sdd: '2', sp: 'r', st: start, se: expiry }, stringToSign);
    expect(await check(`${BLOB_URL}?${sas}`)).toMatchObject({ kind: 'sas' });
    expect(await check(`/${ACCOUNT}/data/runs/run%201/deeper/x.bin?${sas}`)).toMatchObject({ kind: 'sas' });
    expect((await refused(`/${ACCOUNT}/data/runs/run%202/model.bin?${sas}`)).code).toBe('AuthenticationFailed');
    expect((await refused(`/${ACCOUNT}/data/runs?${sas}`)).details.AuthenticationErrorDetail).toContain('outside the directory');
  });
});

describe('service SAS for files, from the official SDK', () => {
  const fileCredential = (key = KEY1) => new FileSharedKeyCredential(ACCOUNT, key);
  const file = { service: 'file' } as const;

  it('accepts a file SAS (sr=f) with key1 or key2 for that file only', async () => {
    for (const [key, keyIndex] of [
      [KEY1, 0],
      [KEY2, 1],
    ] as const) {
      const sas = generateFileSASQueryParameters(
        { shareName: 'share', filePath: 'dir/f 1.txt', permissions: FileSASPermissions.parse('r'), expiresOn: minutesFromNow(60) },
        fileCredential(key),
      ).toString();
      expect(await check(`/${ACCOUNT}/share/dir/f%201.txt?${sas}`, READ_BLOB, file)).toMatchObject({ kind: 'sas', keyIndex });
      expect((await refused(`/${ACCOUNT}/share/dir/f%202.txt?${sas}`, READ_BLOB, file)).code).toBe('AuthenticationFailed');
    }
  });

  it('accepts a share SAS (sr=s) for every file in the share', async () => {
    const sas = generateFileSASQueryParameters(
      { shareName: 'share', permissions: ShareSASPermissions.parse('rl'), expiresOn: minutesFromNow(60), cacheControl: 'max-age=60' },
      fileCredential(),
    ).toString();
    expect(await check(`/${ACCOUNT}/share/a/b/c.txt?${sas}`, READ_BLOB, file)).toEqual({
      kind: 'sas',
      keyIndex: 0,
      responseOverrides: { cacheControl: 'max-age=60' },
    });
  });

  it('refuses a blob resource type (sr=b) on the File service', async () => {
    const error = await refused(`/${ACCOUNT}/share/a.txt?${blobSas({ containerName: 'share', blobName: 'a.txt' })}`, READ_BLOB, file);
    expect(error.details.AuthenticationErrorDetail).toContain('sr=b is not valid for the file service');
  });

  it('accepts an account SAS from the File SDK', async () => {
    const sas = generateFileAccountSASQueryParameters(
      {
        services: AccountSASServices.parse('f').toString(),
        resourceTypes: AccountSASResourceTypes.parse('o').toString(),
        permissions: AccountSASPermissions.parse('r'),
        expiresOn: minutesFromNow(60),
      },
      fileCredential(KEY2),
    ).toString();
    expect(await check(`/${ACCOUNT}/share/a.txt?${sas}`, READ_BLOB, file)).toMatchObject({ kind: 'sas', keyIndex: 1 });
  });
});

describe('account SAS, from the official SDK', () => {
  it('accepts an account SAS signed with key1 or key2 for objects, containers and the service', async () => {
    expect(await check(`${BLOB_URL}?${accountSas()}`)).toEqual({ kind: 'sas', keyIndex: 0, responseOverrides: {} });
    expect(await check(`/${ACCOUNT}/data?restype=container&comp=list&${accountSas({}, KEY2)}`, LIST_BLOBS)).toMatchObject({ keyIndex: 1 });
    expect(await check(`/${ACCOUNT}?comp=list&${accountSas()}`, LIST_CONTAINERS)).toMatchObject({ kind: 'sas' });
  });

  it('accepts versions before and after the encryption scope line (2020-12-06)', async () => {
    for (const version of ['2019-12-12', '2020-12-06', '2026-04-06']) {
      expect(await check(`${BLOB_URL}?${accountSas({ version })}`)).toMatchObject({ kind: 'sas' });
    }
    const scoped = generateAccountSASQueryParameters(
      { services: 'b', resourceTypes: 'o', permissions: AccountSASPermissions.parse('r'), expiresOn: minutesFromNow(60), encryptionScope: 'scope1' },
      credential(),
    ).toString();
    expect(scoped).toContain('ses=scope1');
    expect(await check(`${BLOB_URL}?${scoped}`)).toMatchObject({ kind: 'sas' });
  });

  it('refuses a service it does not name (ss)', async () => {
    expect((await refused(`${BLOB_URL}?${accountSas({ services: 'f' })}`)).code).toBe('AuthorizationServiceMismatch');
  });

  it('refuses a resource type it does not name (srt)', async () => {
    expect((await refused(`/${ACCOUNT}/data?restype=container&comp=list&${accountSas({ resourceTypes: 'o' })}`, LIST_BLOBS)).code).toBe(
      'AuthorizationResourceTypeMismatch',
    );
  });

  it('refuses an operation its permissions (sp) do not cover', async () => {
    expect((await refused(`${BLOB_URL}?${accountSas({ permissions: 'r' })}`, WRITE_BLOB, {}, noPolicies)).code).toBe(
      'AuthorizationPermissionMismatch',
    );
  });

  it('refuses a wrong key and a changed parameter', async () => {
    expect((await refused(`${BLOB_URL}?${accountSas({}, WRONG_KEY)}`)).code).toBe('AuthenticationFailed');
    const widened = accountSas({ permissions: 'r' }).replace('sp=r', 'sp=rw');
    expect(widened).toContain('sp=rw');
    expect((await refused(`${BLOB_URL}?${widened}`, WRITE_BLOB)).details.AuthenticationErrorDetail).toContain('Signature did not match');
  });

  it('names a missing required field', async () => {
    const withoutSrt = accountSas().replace(/srt=[a-z]+&?/, '');
    expect((await refused(`${BLOB_URL}?${withoutSrt}`)).details.AuthenticationErrorDetail).toContain('(srt)');
  });
});

describe('SAS refusals', () => {
  it('refuses a wrong key', async () => {
    const error = await refused(`${BLOB_URL}?${blobSas({}, WRONG_KEY)}`);
    expect(error.code).toBe('AuthenticationFailed');
    expect(error.details.AuthenticationErrorDetail).toContain('Signature did not match');
  });

  it('refuses a changed parameter', async () => {
    const sas = blobSas({ expiresOn: new Date('2099-01-01T00:00:00Z') });
    const extended = sas.replace('2099-01-01', '2199-01-01');
    expect(extended).not.toBe(sas);
    expect((await refused(`${BLOB_URL}?${extended}`)).code).toBe('AuthenticationFailed');
  });

  it('refuses an expired SAS', async () => {
    const error = await refused(`${BLOB_URL}?${blobSas({ startsOn: minutesFromNow(-120), expiresOn: minutesFromNow(-1) })}`);
    expect(error.details.AuthenticationErrorDetail).toContain('expired');
  });

  it('refuses a SAS that is not valid yet', async () => {
    const error = await refused(`${BLOB_URL}?${blobSas({ startsOn: minutesFromNow(5) })}`);
    expect(error.details.AuthenticationErrorDetail).toContain('is valid from');
  });

  it('refuses an operation its permissions do not cover', async () => {
    expect((await refused(`${BLOB_URL}?${blobSas()}`, WRITE_BLOB)).code).toBe('AuthorizationPermissionMismatch');
  });

  it('refuses a blob SAS used for another blob', async () => {
    expect((await refused(`/${ACCOUNT}/data/other.bin?${blobSas()}`)).code).toBe('AuthenticationFailed');
  });

  it('refuses a blob SAS on a container operation', async () => {
    expect((await refused(`/${ACCOUNT}/data?restype=container&comp=list&${blobSas()}`, LIST_BLOBS)).code).toBe(
      'AuthorizationResourceTypeMismatch',
    );
  });

  it('refuses a service SAS on a service-level operation', async () => {
    const sas = blobSas({ blobName: undefined, permissions: ContainerSASPermissions.parse('rl') });
    expect((await refused(`/${ACCOUNT}?comp=list&${sas}`, LIST_CONTAINERS)).code).toBe('AuthorizationResourceTypeMismatch');
  });

  it('refuses HTTP when the SAS allows HTTPS only', async () => {
    const sas = blobSas({ protocol: SASProtocol.Https });
    expect((await refused(`${BLOB_URL}?${sas}`, READ_BLOB, { protocol: 'http' })).code).toBe('AuthorizationProtocolMismatch');
    expect(await check(`${BLOB_URL}?${sas}`, READ_BLOB, { protocol: 'https' })).toMatchObject({ kind: 'sas' });
  });

  it('enforces the signed IP range against the caller, IPv4-mapped addresses included', async () => {
    const sas = blobSas({ ipRange: { start: '10.0.0.1', end: '10.0.0.20' } });
    expect(await check(`${BLOB_URL}?${sas}`, READ_BLOB, { remoteAddress: '::ffff:10.0.0.7' })).toMatchObject({ kind: 'sas' });
    expect((await refused(`${BLOB_URL}?${sas}`, READ_BLOB, { remoteAddress: '10.0.0.21' })).code).toBe('AuthorizationSourceIPMismatch');
    expect((await refused(`${BLOB_URL}?${sas}`, READ_BLOB, { remoteAddress: '::1' })).code).toBe('AuthorizationSourceIPMismatch');
  });

  it('refuses a user delegation SAS where only key-signed ones are checked (a copy source), saying so', async () => {
    const sas = `${blobSas()}&skoid=00000000-0000-0000-0000-000000000000&sktid=00000000-0000-0000-0000-000000000000`;
    expect((await refused(`${BLOB_URL}?${sas}`)).details.AuthenticationErrorDetail).toContain('not accepted on a copy source');
  });

  for (const field of ['sv', 'se', 'sp', 'sr']) {
    it(`names the missing field ${field}`, async () => {
      const sas = new URLSearchParams(blobSas());
      sas.delete(field);
      expect((await refused(`${BLOB_URL}?${sas}`)).details.AuthenticationErrorDetail).toContain(`(${field})`);
    });
  }

  it('refuses any SAS when the account disallows key-based access', async () => {
    const error = await refused(`${BLOB_URL}?${blobSas()}`, READ_BLOB, {}, noPolicies, accountKeys(false));
    expect(error.code).toBe('KeyBasedAuthenticationNotPermitted');
  });
});

describe('stored access policies (si)', () => {
  const policies = (policy: AccessPolicy | undefined) => {
    const asked: [string, string][] = [];
    const lookup: AccessPolicyLookup = (container, id) => {
      asked.push([container, id]);
      return policy;
    };
    return { lookup, asked };
  };
  const policySas = (values: Partial<BlobSASSignatureValues> = {}) =>
    blobSas({ identifier: 'readers', permissions: undefined, startsOn: undefined, expiresOn: undefined, ...values });

  it('takes permissions and times from the policy', async () => {
    const { lookup, asked } = policies({ permissions: 'r', expiry: minutesFromNow(60).toISOString() });
    expect(await check(`${BLOB_URL}?${policySas()}`, READ_BLOB, {}, lookup)).toMatchObject({ kind: 'sas', keyIndex: 0 });
    expect(asked).toEqual([['data', 'readers']]);
  });

  it("enforces the policy's permissions and expiry", async () => {
    const reader = policies({ permissions: 'r', expiry: minutesFromNow(60).toISOString() });
    expect((await refused(`${BLOB_URL}?${policySas()}`, WRITE_BLOB, {}, reader.lookup)).code).toBe('AuthorizationPermissionMismatch');
    const lapsed = policies({ permissions: 'r', expiry: minutesFromNow(-1).toISOString() });
    expect((await refused(`${BLOB_URL}?${policySas()}`, READ_BLOB, {}, lapsed.lookup)).details.AuthenticationErrorDetail).toContain('expired');
  });

  it('refuses a SAS whose policy no longer exists', async () => {
    const { lookup } = policies(undefined);
    expect((await refused(`${BLOB_URL}?${policySas()}`, READ_BLOB, {}, lookup)).details.AuthenticationErrorDetail).toContain("'readers'");
  });

  it('refuses a field given both in the SAS and in the policy', async () => {
    const { lookup } = policies({ permissions: 'r', expiry: minutesFromNow(60).toISOString() });
    const sas = policySas({ expiresOn: minutesFromNow(30) });
    expect((await refused(`${BLOB_URL}?${sas}`, READ_BLOB, {}, lookup)).details.AuthenticationErrorDetail).toContain('both specify se');
  });

  it('refuses when neither gives an expiry', async () => {
    const { lookup } = policies({ permissions: 'r' });
    expect((await refused(`${BLOB_URL}?${policySas()}`, READ_BLOB, {}, lookup)).details.AuthenticationErrorDetail).toContain('(se)');
  });
});

describe('SAS error messages', () => {
  it('never contain a key or a signature', () => {
    expect(refusals.length).toBeGreaterThan(20);
    for (const { error, url } of refusals) {
      const text = errorText(error);
      const sig = new URL(url, 'http://x').searchParams.get('sig');
      // The signatures the server computed are as secret as the one the client sent.
      const reported = /String to sign used was '([\s\S]*?)'\. /.exec(text)?.[1];
      const computed = reported === undefined ? [] : [sign(KEY1, reported), sign(KEY2, reported)];
      for (const secret of [KEY1, KEY2, WRONG_KEY, sig, sig && encodeURIComponent(sig), ...computed]) {
        if (secret) expect(text).not.toContain(secret);
      }
    }
  });
});
