import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { fileAccountSas } from '../helpers/file.js';
import { DEV_ACCOUNT, DEV_KEY, devConnectionString, newDevContainer, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let container: ContainerClient;

beforeAll(async () => {
  server = await startTestServer();
  container = await newDevContainer(server, 'leases');
});
afterAll(() => server.stop());

async function newBlob(name: string) {
  const blob = container.getBlockBlobClient(name);
  await blob.upload('first', 5);
  return blob;
}

describe('Lease Blob', () => {
  it('acquires, renews, changes, releases, and shows the lease in properties and listings', async () => {
    const blob = await newBlob('cycle');
    const before = await blob.getProperties();
    const proposed = randomUUID();
    const lease = blob.getBlobLeaseClient(proposed);
    const acquired = await lease.acquireLease(-1);
    expect(acquired.leaseId).toBe(proposed);
    // A lease changes neither the ETag nor Last-Modified.
    expect(acquired.etag).toBe(before.etag);
    let properties = await blob.getProperties();
    expect([properties.leaseStatus, properties.leaseState, properties.leaseDuration]).toEqual(['locked', 'leased', 'infinite']);
    const listed = [];
    for await (const item of container.listBlobsFlat({ prefix: 'cycle' })) listed.push(item.properties);
    expect([listed[0]!.leaseStatus, listed[0]!.leaseState, listed[0]!.leaseDuration]).toEqual(['locked', 'leased', 'infinite']);

    expect((await lease.renewLease()).leaseId).toBe(proposed);
    const changedTo = randomUUID();
    expect((await lease.changeLease(changedTo)).leaseId).toBe(changedTo);
    expect(lease.leaseId).toBe(changedTo);
    await lease.releaseLease();
    properties = await blob.getProperties();
    expect([properties.leaseStatus, properties.leaseState, properties.leaseDuration]).toEqual(['unlocked', 'available', undefined]);
    // Released, it can be taken at once, here with a server-chosen id.
    const taken = await blob.getBlobLeaseClient().acquireLease(15);
    expect(taken.leaseId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((await blob.getProperties()).leaseDuration).toBe('fixed');
  });

  it('guards every write and delete: no id is LeaseIdMissing, another id a mismatch; with its id a write succeeds and keeps the lease', async () => {
    const blob = await newBlob('guarded');
    const leaseId = (await blob.getBlobLeaseClient().acquireLease(-1)).leaseId!;
    const wrongId = randomUUID();
    const writes = {
      upload: (id?: string) => blob.upload('second', 6, { conditions: { leaseId: id } }),
      setMetadata: (id?: string) => blob.setMetadata({ a: 'b' }, { conditions: { leaseId: id } }),
      setHTTPHeaders: (id?: string) => blob.setHTTPHeaders({ blobContentType: 'text/plain' }, { conditions: { leaseId: id } }),
      stageBlock: (id?: string) => blob.stageBlock(Buffer.from('blk').toString('base64'), 'blk', 3, { conditions: { leaseId: id } }),
      commitBlockList: (id?: string) => blob.commitBlockList([], { conditions: { leaseId: id } }),
      delete: (id?: string) => blob.delete({ conditions: { leaseId: id } }),
    };
    for (const [name, write] of Object.entries(writes)) {
      expect([name, ...statusAndCode(await errorOf(write()))]).toEqual([name, 412, 'LeaseIdMissing']);
      expect([name, ...statusAndCode(await errorOf(write(wrongId)))]).toEqual([name, 412, 'LeaseIdMismatchWithBlobOperation']);
    }
    // Reads need no id; one that names another lease is refused.
    expect((await blob.downloadToBuffer()).toString()).toBe('first');
    expect(statusAndCode(await errorOf(blob.getProperties({ conditions: { leaseId: wrongId } })))).toEqual([412, 'LeaseIdMismatchWithBlobOperation']);
    await writes.upload(leaseId);
    await writes.setMetadata(leaseId);
    const properties = await blob.getProperties({ conditions: { leaseId } });
    expect([properties.leaseState, properties.metadata]).toEqual(['leased', { a: 'b' }]);
    await writes.delete(leaseId);
    await newBlob('guarded');
    expect((await blob.getProperties()).leaseState).toBe('available');
    expect(statusAndCode(await errorOf(blob.setMetadata({}, { conditions: { leaseId } })))).toEqual([412, 'LeaseNotPresentWithBlobOperation']);
  });

  it('answers each action in each state as Azure does', async () => {
    const blob = await newBlob('states');
    const holder = blob.getBlobLeaseClient(randomUUID());
    const other = blob.getBlobLeaseClient(randomUUID());
    expect(statusAndCode(await errorOf(holder.renewLease()))).toEqual([409, 'LeaseIdMismatchWithLeaseOperation']);
    expect(statusAndCode(await errorOf(holder.breakLease(0)))).toEqual([409, 'LeaseNotPresentWithLeaseOperation']);
    expect(statusAndCode(await errorOf(holder.changeLease(randomUUID())))).toEqual([409, 'LeaseNotPresentWithLeaseOperation']);
    await holder.acquireLease(60);
    expect(statusAndCode(await errorOf(other.acquireLease(60)))).toEqual([409, 'LeaseAlreadyPresent']);
    expect(statusAndCode(await errorOf(other.releaseLease()))).toEqual([409, 'LeaseIdMismatchWithLeaseOperation']);
    // Re-acquiring with the same id changes the duration.
    await holder.acquireLease(-1);
    expect((await blob.getProperties()).leaseDuration).toBe('infinite');
    // Breaking an infinite lease with a period: breaking, still locked, then broken once the period has passed.
    const broken = await other.breakLease(1);
    expect(broken.leaseTime).toBe(1);
    let properties = await blob.getProperties();
    expect([properties.leaseStatus, properties.leaseState]).toEqual(['locked', 'breaking']);
    expect(statusAndCode(await errorOf(holder.renewLease()))).toEqual([409, 'LeaseIsBrokenAndCannotBeRenewed']);
    expect(statusAndCode(await errorOf(holder.acquireLease(15)))).toEqual([409, 'LeaseIsBreakingAndCannotBeAcquired']);
    expect(statusAndCode(await errorOf(other.acquireLease(15)))).toEqual([409, 'LeaseAlreadyPresent']);
    expect(statusAndCode(await errorOf(holder.changeLease(randomUUID())))).toEqual([409, 'LeaseIsBreakingAndCannotBeChanged']);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    properties = await blob.getProperties();
    expect([properties.leaseStatus, properties.leaseState]).toEqual(['unlocked', 'broken']);
    // A broken lease no longer guards writes, and a write ends it.
    await blob.setMetadata({ after: 'break' });
    expect((await blob.getProperties()).leaseState).toBe('available');
    // Breaking with period 0 is immediate.
    await holder.acquireLease(-1);
    expect((await other.breakLease(0)).leaseTime).toBe(0);
    expect((await blob.getProperties()).leaseState).toBe('broken');
    await holder.releaseLease();
    expect((await blob.getProperties()).leaseState).toBe('available');
  });

  it('lets a fixed lease expire by the clock, and renews an expired one for its holder', { timeout: 30_000 }, async () => {
    const blob = await newBlob('expiry');
    const lease = blob.getBlobLeaseClient(randomUUID());
    await lease.acquireLease(15);
    // A break without a period (which the SDK always sends) lasts the fixed lease's remaining time; a release ends it.
    const sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'rwdlac', 'b');
    const broken = await fetch(`${server.blob}/${DEV_ACCOUNT}/leases/expiry?comp=lease&${sas}`, { method: 'PUT', headers: { 'x-ms-lease-action': 'break' } });
    expect(broken.status).toBe(202);
    expect(Number(broken.headers.get('x-ms-lease-time'))).toBeGreaterThanOrEqual(14);
    expect((await blob.getProperties()).leaseState).toBe('breaking');
    await lease.releaseLease();
    await lease.acquireLease(15);
    await new Promise((resolve) => setTimeout(resolve, 15_200));
    const properties = await blob.getProperties();
    expect([properties.leaseStatus, properties.leaseState, properties.leaseDuration]).toEqual(['unlocked', 'expired', undefined]);
    // Expired, the blob takes writes without an id again; its holder may renew while nothing has written it.
    expect((await lease.renewLease()).leaseId).toBe(lease.leaseId);
    expect((await blob.getProperties()).leaseState).toBe('leased');
  });

  it('lets exactly one of 16 racing acquirers win', async () => {
    const blob = await newBlob('race');
    const results = await Promise.allSettled(Array.from({ length: 16 }, () => blob.getBlobLeaseClient(randomUUID()).acquireLease(60)));
    const won = results.filter((result) => result.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const result of results) if (result.status === 'rejected') expect(statusAndCode(result.reason)).toEqual([409, 'LeaseAlreadyPresent']);
    expect((await blob.getProperties()).leaseState).toBe('leased');
  });

  it('refuses malformed lease headers with a message that says what to fix', async () => {
    await newBlob('bad');
    const sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'rwdlac', 'b');
    const lease = (headers: Record<string, string>) =>
      fetch(`${server.blob}/${DEV_ACCOUNT}/leases/bad?comp=lease&${sas}`, { method: 'PUT', headers }).then(async (response) => ({
        status: response.status,
        code: response.headers.get('x-ms-error-code'),
        body: await response.text(),
      }));
    const cases: [Record<string, string>, number, string, string][] = [
      [{}, 400, 'MissingRequiredHeader', 'x-ms-lease-action'],
      [{ 'x-ms-lease-action': 'grab' }, 400, 'InvalidHeaderValue', 'acquire, renew, change, release, break'],
      [{ 'x-ms-lease-action': 'acquire' }, 400, 'MissingRequiredHeader', 'x-ms-lease-duration'],
      [{ 'x-ms-lease-action': 'acquire', 'x-ms-lease-duration': '14' }, 400, 'InvalidHeaderValue', '15 to 60'],
      [{ 'x-ms-lease-action': 'acquire', 'x-ms-lease-duration': '61' }, 400, 'InvalidHeaderValue', '15 to 60'],
      [{ 'x-ms-lease-action': 'acquire', 'x-ms-lease-duration': 'forever' }, 400, 'InvalidHeaderValue', '15 to 60'],
      [{ 'x-ms-lease-action': 'acquire', 'x-ms-lease-duration': '-1', 'x-ms-proposed-lease-id': 'not-a-guid' }, 400, 'InvalidHeaderValue', 'GUID'],
      [{ 'x-ms-lease-action': 'renew' }, 400, 'MissingRequiredHeader', 'x-ms-lease-id'],
      [{ 'x-ms-lease-action': 'change', 'x-ms-lease-id': randomUUID() }, 400, 'MissingRequiredHeader', 'x-ms-proposed-lease-id'],
      [{ 'x-ms-lease-action': 'break', 'x-ms-lease-break-period': '61' }, 400, 'InvalidHeaderValue', '0 to 60'],
    ];
    for (const [headers, status, errorCode, hint] of cases) {
      const result = await lease(headers);
      expect([JSON.stringify(headers), result.status, result.code]).toEqual([JSON.stringify(headers), status, errorCode]);
      expect(result.body).toContain(hint);
    }
    // GUIDs in braces or without hyphens name the same lease.
    const id = randomUUID();
    expect((await lease({ 'x-ms-lease-action': 'acquire', 'x-ms-lease-duration': '-1', 'x-ms-proposed-lease-id': `{${id.toUpperCase()}}` })).status).toBe(201);
    expect((await lease({ 'x-ms-lease-action': 'release', 'x-ms-lease-id': id.replaceAll('-', '') })).status).toBe(200);
    expect((await lease({ 'x-ms-lease-action': 'acquire', 'x-ms-lease-duration': '-1' })).status).toBe(201);
    expect((await container.getBlobClient('no-such-blob').getBlobLeaseClient().acquireLease(-1).catch((e) => e)).statusCode).toBe(404);
  });
});

describe('Lease Container', () => {
  it('guards deletion only, shows the lease, and checks a lease id other operations name', async () => {
    const leased = BlobServiceClient.fromConnectionString(devConnectionString(server), { retryOptions: { maxTries: 1 } }).getContainerClient('leased-container');
    await leased.create();
    await leased.getBlockBlobClient('inside').upload('x', 1);
    const lease = leased.getBlobLeaseClient();
    const leaseId = (await lease.acquireLease(-1)).leaseId!;
    const properties = await leased.getProperties();
    expect([properties.leaseStatus, properties.leaseState, properties.leaseDuration]).toEqual(['locked', 'leased', 'infinite']);
    const service = BlobServiceClient.fromConnectionString(devConnectionString(server));
    for await (const item of service.listContainers({ prefix: 'leased-' })) expect([item.properties.leaseStatus, item.properties.leaseState]).toEqual(['locked', 'leased']);
    // Blobs inside and other container operations need no id.
    await leased.getBlockBlobClient('inside').upload('y', 1);
    await leased.setMetadata({ owner: 'terraform' });
    expect(statusAndCode(await errorOf(leased.setMetadata({}, { conditions: { leaseId: randomUUID() } })))).toEqual([412, 'LeaseIdMismatchWithContainerOperation']);
    expect(statusAndCode(await errorOf(leased.delete()))).toEqual([412, 'LeaseIdMissing']);
    expect(statusAndCode(await errorOf(leased.delete({ conditions: { leaseId: randomUUID() } })))).toEqual([412, 'LeaseIdMismatchWithContainerOperation']);
    await leased.delete({ conditions: { leaseId } });
    await leased.create();
    expect(statusAndCode(await errorOf(leased.setMetadata({}, { conditions: { leaseId } })))).toEqual([412, 'LeaseNotPresentWithContainerOperation']);
  });
});

describe('durability', () => {
  it('keeps an acknowledged lease across kill -9', async () => {
    const first = await startTestServer();
    const blobs = BlobServiceClient.fromConnectionString(devConnectionString(first), { retryOptions: { maxTries: 1 } });
    await blobs.getContainerClient('durable').create();
    const blob = blobs.getContainerClient('durable').getBlockBlobClient('held');
    await blob.upload('x', 1);
    const leaseId = (await blob.getBlobLeaseClient().acquireLease(-1)).leaseId!;
    await first.stop('SIGKILL');
    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      const again = BlobServiceClient.fromConnectionString(devConnectionString(second), { retryOptions: { maxTries: 1 } }).getContainerClient('durable').getBlockBlobClient('held');
      expect((await again.getProperties()).leaseState).toBe('leased');
      expect(statusAndCode(await errorOf(again.delete()))).toEqual([412, 'LeaseIdMissing']);
      await again.delete({ conditions: { leaseId } });
    } finally {
      await second.stop();
    }
  });
});
