import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  BlobServiceClient,
  StorageSharedKeyCredential,
  generateAccountSASQueryParameters,
} from '@azure/storage-blob';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_ACCOUNT, DEV_KEY, devConnectionString, startTestServer, type TestServer } from '../helpers/server.js';
import { errorOf } from '../helpers/errors.js';
import { rawRequest } from '../helpers/raw-socket.js';

let server: TestServer;
let service: BlobServiceClient;
let sas: string;

beforeAll(async () => {
  server = await startTestServer();
  service = BlobServiceClient.fromConnectionString(devConnectionString(server));
  await service.getContainerClient('bad').create();
  await service.getContainerClient('bad').getBlockBlobClient('small').upload('0123456789', 10);
  sas = generateAccountSASQueryParameters(
    {
      services: AccountSASServices.parse('b').toString(),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
      permissions: AccountSASPermissions.parse('rwdlac'),
      expiresOn: new Date(Date.now() + 3600_000),
    },
    new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY),
  ).toString();
});
afterAll(async () => {
  await server.stop();
});

/** A raw request authorized by an all-powerful account SAS, for inputs the SDK would never send. */
async function send(pathAndQuery: string, init: RequestInit = {}) {
  const separator = pathAndQuery.includes('?') ? '&' : '?';
  const response = await fetch(`${server.blob}/${DEV_ACCOUNT}${pathAndQuery}${separator}${sas}`, init);
  const body = await response.text();
  return { status: response.status, code: response.headers.get('x-ms-error-code'), body, requestId: response.headers.get('x-ms-request-id') };
}

describe('names', () => {
  it.each(['UPPER', 'double--hyphen', '-leading', 'trailing-', 'under_score'])('refuses container name %s as InvalidResourceName', async (name) => {
    const result = await send(`/${name}?restype=container`, { method: 'PUT' });
    expect(result.status).toBe(400);
    expect(result.code).toBe('InvalidResourceName');
    expect(result.body).toContain('The specifed resource name contains invalid characters');
    expect(result.body).toContain('3-63 characters');
    expect(result.requestId).toBeTruthy();
  });

  it.each(['ab', 'a'.repeat(64)])('refuses container name %s, of the wrong length, as OutOfRangeInput', async (name) => {
    const result = await send(`/${name}?restype=container`, { method: 'PUT' });
    expect(result.status).toBe(400);
    expect(result.code).toBe('OutOfRangeInput');
    expect(result.body).toContain('The specified resource name length is not within the permissible limits');
    expect(result.body).toContain('3-63 characters');
  });

  it('refuses blob names that are too long, and keeps traversal-looking names as plain names', async () => {
    const tooLong = await send(`/bad/${'x'.repeat(1025)}`, { method: 'PUT', body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob' } });
    expect(tooLong.code).toBe('InvalidResourceName');
    // Clients normalize dot segments away, so send them on a raw socket.
    const put = await rawRequest(
      server.blob,
      `PUT /${DEV_ACCOUNT}/bad/../../../../etc/passwd?${sas} HTTP/1.1\r\nHost: x\r\nx-ms-blob-type: BlockBlob\r\nContent-Length: 17\r\nConnection: close\r\n\r\nnot a system file`,
    );
    expect(put).toMatch(/^HTTP\/1.1 201/);
    const container = service.getContainerClient('bad');
    const names = [];
    for await (const blob of container.listBlobsFlat({ prefix: '../' })) names.push(blob.name);
    expect(names).toEqual(['../../../../etc/passwd']);
  });

  it('refuses malformed percent-encoding', async () => {
    const result = await send('/bad/%E0%A4%A', { method: 'GET' });
    expect(result.status).toBe(400);
    expect(result.code).toBe('InvalidUri');
  });

  it('refuses invalid metadata names', async () => {
    const result = await send('/bad/meta', { method: 'PUT', body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob', 'x-ms-meta-1bad': 'v' } });
    expect(result.code).toBe('InvalidMetadata');
  });
});

describe('operations and headers', () => {
  it('names unknown operations', async () => {
    const result = await send('/bad/small?comp=pages', { method: 'PUT' });
    expect(result.status).toBe(400);
    expect(result.code).toBe('UnsupportedOperation');
    expect(result.body).toContain('comp=pages');
    // Set Blob Expiry is a Data Lake (hierarchical namespace) operation; these accounts are flat.
    const expiry = await send('/bad/small?comp=expiry', { method: 'PUT', headers: { 'x-ms-expiry-option': 'NeverExpire' } });
    expect([expiry.status, expiry.code]).toEqual([409, 'HierarchicalNamespaceNotEnabled']);
  });

  it('requires x-ms-blob-type, and a page blob created without a body', async () => {
    expect((await send('/bad/t', { method: 'PUT', body: 'x' })).code).toBe('MissingRequiredHeader');
    expect((await send('/bad/t', { method: 'PUT', body: 'x', headers: { 'x-ms-blob-type': 'Bogus' } })).code).toBe('InvalidHeaderValue');
    const page = await send('/bad/t', { method: 'PUT', body: 'x', headers: { 'x-ms-blob-type': 'PageBlob', 'x-ms-blob-content-length': '512' } });
    expect([page.code, page.body.includes('Put Page')]).toEqual(['InvalidHeaderValue', true]);
  });

  it('refuses a body whose Content-MD5 does not match, and stores nothing', async () => {
    const md5 = createHash('md5').update('other').digest('base64');
    const result = await send('/bad/md5', { method: 'PUT', body: 'payload', headers: { 'x-ms-blob-type': 'BlockBlob', 'content-md5': md5 } });
    expect(result.code).toBe('Md5Mismatch');
    expect(await service.getContainerClient('bad').getBlockBlobClient('md5').exists()).toBe(false);
    expect((await send('/bad/md5', { method: 'PUT', body: 'payload', headers: { 'x-ms-blob-type': 'BlockBlob', 'content-md5': 'nope' } })).code).toBe('InvalidMd5');
    // Blocks too: checked when the client sends a digest, and answered with it.
    const block = service.getContainerClient('bad').getBlockBlobClient('md5-blocks');
    const id = Buffer.from('block-0').toString('base64');
    const wrong = await errorOf(block.stageBlock(id, Buffer.from('payload'), 7, { transactionalContentMD5: createHash('md5').update('other').digest() }));
    expect(wrong.code).toBe('Md5Mismatch');
    const right = await block.stageBlock(id, Buffer.from('payload'), 7, { transactionalContentMD5: createHash('md5').update('payload').digest() });
    expect(right.contentMD5).toEqual(createHash('md5').update('payload').digest());
    expect((await block.getBlockList('uncommitted')).uncommittedBlocks!.map((b) => b.size)).toEqual([7]);
  });

  it('keeps nothing of a body the client abandons midway, and goes on serving', async () => {
    const contentFiles = () => fs.readdirSync(path.join(server.dataDir, 'blobs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    const before = contentFiles();
    const MiB = 1024 * 1024;
    // 3 of 8 promised MiB: enough that batches were written and flushed before the client vanishes.
    let during = before;
    await new Promise<void>((resolve) => {
      const request = http.request(`${server.blob}/${DEV_ACCOUNT}/bad/abandoned?${sas}`, {
        method: 'PUT',
        headers: { 'x-ms-blob-type': 'BlockBlob', 'content-length': 8 * MiB },
      });
      request.on('error', () => resolve());
      request.write(randomBytes(3 * MiB), () =>
        setTimeout(() => {
          during = contentFiles();
          request.destroy();
        }, 200),
      );
    });
    expect(during).toBe(before + 1);
    const deadline = Date.now() + 5000;
    while (contentFiles() !== before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(contentFiles()).toBe(before);
    const blob = service.getContainerClient('bad').getBlockBlobClient('abandoned');
    expect(await blob.exists()).toBe(false);
    await blob.uploadData(randomBytes(3 * MiB));
    expect((await blob.getProperties()).contentLength).toBe(3 * MiB);
    // The client left; nothing failed here.
    expect(server.output()).not.toContain('request failed');
  });

  it('refuses oversize blocks and blobs before reading the body', async () => {
    const block = Buffer.from('block-1').toString('base64');
    const hugeBlock = await send(`/bad/huge?comp=block&blockid=${encodeURIComponent(block)}`, {
      method: 'PUT',
      headers: { 'content-length': String(4001 * 1024 * 1024) },
      body: 'x',
    }).catch((error) => ({ status: 0, code: String(error), body: '', requestId: null }));
    // fetch refuses a mismatched content-length itself; the server-side check is exercised with a raw socket below.
    expect([0, 413]).toContain(hugeBlock.status);
    const raw = await rawRequest(server.blob, `PUT /${DEV_ACCOUNT}/bad/huge?comp=block&blockid=${encodeURIComponent(block)}&${sas} HTTP/1.1\r\nHost: x\r\nContent-Length: ${4001 * 1024 * 1024}\r\n\r\n`);
    expect(raw).toMatch(/^HTTP\/1.1 413/);
    expect(raw).toContain('RequestBodyTooLarge');
  });

  it('answers a chunked document body past its limit with 413, not a dropped connection', async () => {
    const chunk = Buffer.alloc(4 * 1024 * 1024 + 1, 'x');
    const head = `PUT /${DEV_ACCOUNT}/bad/b?comp=blocklist&${sas} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n`;
    const raw = await rawRequest(server.blob, Buffer.concat([Buffer.from(head), chunk, Buffer.from('\r\n0\r\n\r\n')]));
    expect(raw).toMatch(/^HTTP\/1.1 413/);
    expect(raw).toContain('RequestBodyTooLarge');
    expect(server.output()).not.toContain('request failed');
  });

  it('refuses bad block ids and malformed block lists', async () => {
    expect((await send('/bad/b?comp=block&blockid=%%%', { method: 'PUT', body: 'x' })).status).toBe(400);
    expect((await send('/bad/b?comp=block', { method: 'PUT', body: 'x' })).code).toBe('MissingRequiredQueryParameter');
    expect((await send(`/bad/b?comp=block&blockid=${Buffer.alloc(65).toString('base64')}`, { method: 'PUT', body: 'x' })).code).toBe('InvalidBlockId');
    const malformed = await send('/bad/b?comp=blocklist', { method: 'PUT', body: '<BlockList><Latest>abc</BlockList>' });
    expect(malformed.code).toBe('InvalidXmlDocument');
    expect((await send('/bad/b?comp=blocklist', { method: 'PUT', body: '<Other/>' })).code).toBe('InvalidXmlDocument');
    expect((await send('/bad/b?comp=blocklist', { method: 'PUT', body: '<BlockList><Bogus>YQ==</Bogus></BlockList>' })).body).toContain('Bogus');
  });

  it('answers bad ranges with 416 or 400', async () => {
    const blob = service.getContainerClient('bad').getBlockBlobClient('small');
    expect((await errorOf(blob.download(10))).statusCode).toBe(416);
    expect((await send('/bad/small', { headers: { 'x-ms-range': 'bytes=5-2' } })).code).toBe('InvalidHeaderValue');
    expect((await send('/bad/small', { headers: { 'x-ms-range': 'pages=1-2' } })).status).toBe(400);
    const ok = await send('/bad/small', { headers: { range: 'bytes=2-4' } });
    expect(ok.status).toBe(206);
    expect(ok.body).toBe('234');
  });

  it('refuses invalid listing parameters and malformed ACL and service-property XML', async () => {
    expect((await send('/bad?restype=container&comp=list&maxresults=0')).code).toBe('OutOfRangeQueryParameterValue');
    expect((await send('/bad?restype=container&comp=list&include=everything')).code).toBe('InvalidQueryParameterValue');
    expect((await send('/bad?restype=container&comp=list&marker=zz')).code).toBe('InvalidQueryParameterValue');
    expect((await send('/bad?restype=container&comp=acl', { method: 'PUT', body: '<SignedIdentifiers><SignedIdentifier>' })).code).toBe('InvalidXmlDocument');
    expect((await send('/?restype=service&comp=properties', { method: 'PUT', body: '<StorageServiceProperties><Nope/></StorageServiceProperties>' })).code).toBe(
      'InvalidXmlDocument',
    );
  });

  it('answers unknown accounts and a bare root clearly', async () => {
    const response = await fetch(`${server.blob}/nosuchaccount/c?restype=container`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('nosuchaccount');
    expect((await fetch(`${server.blob}/`)).status).toBe(400);
  });
});
