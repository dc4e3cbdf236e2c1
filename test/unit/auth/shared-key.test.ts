import { createHmac } from 'node:crypto';
import { describe, it, expect, vi } from 'vitest';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { ShareServiceClient, StorageSharedKeyCredential as FileSharedKeyCredential } from '@azure/storage-file-share';
import { authenticate } from '../../../src/storage/auth/authenticate.js';
import {
  ACCOUNT,
  KEY1,
  KEY2,
  READ_BLOB,
  WRONG_KEY,
  accountKeys,
  captureRequest,
  errorText,
  noPolicies,
  refusal,
  storageRequest,
  type CapturedRequest,
  type RequestOptions,
} from './fixtures.js';

const blobService = (key: string) => (endpoint: string) =>
  new BlobServiceClient(endpoint, new StorageSharedKeyCredential(ACCOUNT, key), { retryOptions: { maxTries: 1 } });
const fileService = (key: string) => (endpoint: string) =>
  new ShareServiceClient(endpoint, new FileSharedKeyCredential(ACCOUNT, key), { retryOptions: { maxTries: 1 } });

// Official SDK calls, each with a key to sign with; they exercise bodies, metadata whose
// names sort differently by culture and ordinally, conditional headers, query parameters
// and the File service's many x-ms-file-* headers.
const sdkCalls: Record<string, (key: string) => (endpoint: string) => Promise<unknown>> = {
  'BlockBlobClient.upload': (key) => (endpoint) =>
    blobService(key)(endpoint)
      .getContainerClient('data')
      .getBlockBlobClient('runs/run 1/model.bin')
      .upload('hello world', 11, {
        metadata: { run_1: 'a', run1: 'b', owner: 'ml  team' },
        blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
        conditions: { ifNoneMatch: '*' },
      }),
  'BlobClient.getProperties': (key) => (endpoint) => blobService(key)(endpoint).getContainerClient('data').getBlobClient('a.txt').getProperties(),
  'BlobClient.setMetadata': (key) => (endpoint) =>
    blobService(key)(endpoint).getContainerClient('data').getBlobClient('a.txt').setMetadata({ stage: 'prod', version_2: '2' }),
  'ContainerClient.listBlobsFlat': (key) => (endpoint) =>
    blobService(key)(endpoint)
      .getContainerClient('data')
      .listBlobsFlat({ prefix: 'runs/run 1/', includeMetadata: true })
      .byPage({ maxPageSize: 5 })
      .next(),
  'BlobServiceClient.listContainers': (key) => (endpoint) => blobService(key)(endpoint).listContainers().byPage().next(),
  'ShareFileClient.create': (key) => (endpoint) =>
    fileService(key)(endpoint).getShareClient('share').getDirectoryClient('dir').getFileClient('f 1.txt').create(1024, {
      metadata: { purpose: 'test' },
    }),
};

const serviceOf = (name: string): RequestOptions => ({ service: name.startsWith('Share') ? 'file' : 'blob' });
const accept = (captured: CapturedRequest, options: RequestOptions = {}, keys = accountKeys()) =>
  authenticate(storageRequest(captured, options), keys, READ_BLOB, noPolicies);

describe('Shared Key from the official SDKs', () => {
  for (const [name, call] of Object.entries(sdkCalls)) {
    it(`accepts ${name} signed with key1 or key2`, async () => {
      expect(await accept(await captureRequest(call(KEY1)), serviceOf(name))).toEqual({ kind: 'sharedKey', keyIndex: 0 });
      expect(await accept(await captureRequest(call(KEY2)), serviceOf(name))).toEqual({ kind: 'sharedKey', keyIndex: 1 });
    });

    it(`refuses ${name} signed with a key the account does not have`, async () => {
      const captured = await captureRequest(call(WRONG_KEY));
      const error = await refusal(() => accept(captured, serviceOf(name)));
      expect(error.status).toBe(403);
      expect(error.code).toBe('AuthenticationFailed');
      expect(error.details.AuthenticationErrorDetail).toContain('Server used following string to sign');
    });
  }

  it('refuses a request whose signed header was changed', async () => {
    const captured = await captureRequest(sdkCalls['BlockBlobClient.upload']!(KEY1));
    captured.headers['x-ms-meta-owner'] = 'someone else';
    expect((await refusal(() => accept(captured))).code).toBe('AuthenticationFailed');
  });

  it('refuses a request whose query parameter was changed', async () => {
    const captured = await captureRequest(sdkCalls['ContainerClient.listBlobsFlat']!(KEY1));
    captured.url = captured.url.replace('prefix=runs', 'prefix=other');
    expect(captured.url).toContain('prefix=other');
    expect((await refusal(() => accept(captured))).code).toBe('AuthenticationFailed');
  });

  it('refuses a request sent to another blob', async () => {
    const captured = await captureRequest(sdkCalls['BlobClient.getProperties']!(KEY1));
    captured.url = captured.url.replace('a.txt', 'b.txt');
    expect((await refusal(() => accept(captured))).code).toBe('AuthenticationFailed');
  });

  it('refuses a request without x-ms-date or Date', async () => {
    const captured = await captureRequest(sdkCalls['BlobClient.getProperties']!(KEY1));
    delete captured.headers['x-ms-date'];
    const error = await refusal(() => accept(captured));
    expect(error.details.AuthenticationErrorDetail).toMatch(/date header not specified/i);
  });

  it('refuses an unparsable request date', async () => {
    const captured = await captureRequest(sdkCalls['BlobClient.getProperties']!(KEY1));
    captured.headers['x-ms-date'] = 'yesterday';
    expect((await refusal(() => accept(captured))).details.AuthenticationErrorDetail).toMatch(/not a valid/);
  });

  for (const [when, shiftMinutes] of [
    ['older', 16],
    ['newer', -16],
  ] as const) {
    it(`refuses a request dated ${when} than 15 minutes`, async () => {
      const captured = await captureRequest(sdkCalls['BlobClient.getProperties']!(KEY1));
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(Date.now() + shiftMinutes * 60_000);
        const error = await refusal(() => accept(captured));
        expect(error.code).toBe('AuthenticationFailed');
        expect(error.details.AuthenticationErrorDetail).toContain('outside the allowed 15-minute window');
      } finally {
        vi.useRealTimers();
      }
    });
  }

  it('refuses a signature made for another account', async () => {
    const captured = await captureRequest(sdkCalls['BlobClient.getProperties']!(KEY1));
    captured.headers.authorization = captured.headers.authorization!.replace(ACCOUNT, 'otheraccount');
    expect((await refusal(() => accept(captured))).details.AuthenticationErrorDetail).toContain("account 'otheraccount'");
  });

  it('refuses Shared Key when the account disallows key-based access', async () => {
    const captured = await captureRequest(sdkCalls['BlobClient.getProperties']!(KEY1));
    const error = await refusal(() => accept(captured, {}, accountKeys(false)));
    expect(error.code).toBe('KeyBasedAuthenticationNotPermitted');
  });

  it('never tells the client a key or a signature', async () => {
    const captured = await captureRequest(sdkCalls['BlockBlobClient.upload']!(WRONG_KEY));
    const sent = captured.headers.authorization!.split(':')[1]!;
    const error = await refusal(() => accept(captured));
    const reported = /string to sign: '([\s\S]*)'\.$/.exec(error.details.AuthenticationErrorDetail!)![1]!;
    // The signatures the server computed are as secret as the one the client sent.
    const computed = [sign(KEY1, reported), sign(KEY2, reported)];
    const text = errorText(error);
    for (const secret of [KEY1, KEY2, WRONG_KEY, sent, ...computed]) expect(text).not.toContain(secret);
  });
});

function sign(key: string, stringToSign: string): string {
  return createHmac('sha256', Buffer.from(key, 'base64')).update(stringToSign, 'utf8').digest('base64');
}

function header(captured: CapturedRequest, name: string): string {
  return (captured.headers[name] as string | undefined) ?? '';
}

/** The x-ms-* headers as the documentation canonicalizes them (ordinal order suffices for these names). */
function documentedHeaders(captured: CapturedRequest): string {
  return Object.keys(captured.headers)
    .filter((name) => name.startsWith('x-ms-'))
    .sort()
    .map((name) => `${name}:${header(captured, name)}\n`)
    .join('');
}

describe('Shared Key as documented and as other clients sign it', () => {
  it('accepts Content-Encoding before Content-Language and the account named once, as Azurite does', async () => {
    const captured = await captureRequest(sdkCalls['BlobClient.getProperties']!(KEY1));
    captured.headers['content-encoding'] = 'gzip';
    captured.headers['content-language'] = 'en-US';
    const standard = [
      captured.method,
      'gzip',
      'en-US',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
    ].join('\n');
    const stringToSign = `${standard}\n${documentedHeaders(captured)}/${ACCOUNT}/data/a.txt`;
    captured.headers.authorization = `SharedKey ${ACCOUNT}:${sign(KEY2, stringToSign)}`;
    expect(await accept(captured)).toEqual({ kind: 'sharedKey', keyIndex: 1 });
  });

  it('accepts Shared Key Lite with key1 and key2, and refuses it with another key', async () => {
    const captured = await captureRequest(sdkCalls['ContainerClient.listBlobsFlat']!(KEY1));
    const stringToSign = `GET\n\n\n\n${documentedHeaders(captured)}/${ACCOUNT}/${ACCOUNT}/data?comp=list`;
    for (const [key, keyIndex] of [
      [KEY1, 0],
      [KEY2, 1],
    ] as const) {
      captured.headers.authorization = `SharedKeyLite ${ACCOUNT}:${sign(key, stringToSign)}`;
      expect(await accept(captured)).toEqual({ kind: 'sharedKey', keyIndex });
    }
    captured.headers.authorization = `SharedKeyLite ${ACCOUNT}:${sign(WRONG_KEY, stringToSign)}`;
    expect((await refusal(() => accept(captured))).code).toBe('AuthenticationFailed');
  });

  it('refuses a signature of the wrong length without comparing it', async () => {
    const captured = await captureRequest(sdkCalls['BlobClient.getProperties']!(KEY1));
    captured.headers.authorization = `SharedKey ${ACCOUNT}:c2hvcnQ=`;
    expect((await refusal(() => accept(captured))).details.AuthenticationErrorDetail).toContain('not the canonical base64 of an HMAC-SHA256');
  });

  it('refuses every other spelling of a valid signature', async () => {
    const captured = await captureRequest(sdkCalls['BlobClient.getProperties']!(KEY1));
    const valid = captured.headers.authorization as string;
    const signature = valid.slice(valid.lastIndexOf(':') + 1);
    expect(await accept(captured)).toEqual({ kind: 'sharedKey', keyIndex: 0 });
    // The last character before '=' carries 4 bits of the digest and 2 unused ones: its next letter decodes to the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const strayBits = `${signature.slice(0, 42)}${alphabet[alphabet.indexOf(signature[42]!) + 1]}=`;
    expect(Buffer.from(strayBits, 'base64')).toEqual(Buffer.from(signature, 'base64'));
    for (const spelling of [`${signature}!!`, `${signature.slice(0, 10)}*${signature.slice(10)}`, signature.slice(0, -1), strayBits, `${signature}==`]) {
      captured.headers.authorization = `SharedKey ${ACCOUNT}:${spelling}`;
      expect((await refusal(() => accept(captured))).code).toBe('AuthenticationFailed');
    }
  });
});
