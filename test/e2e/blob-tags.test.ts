import { AccountSASPermissions, BlobServiceClient, StorageSharedKeyCredential, generateAccountSASQueryParameters, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { DEV_ACCOUNT, DEV_KEY, devConnectionString, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let service: BlobServiceClient;
let container: ContainerClient;

beforeAll(async () => {
  server = await startTestServer();
  service = BlobServiceClient.fromConnectionString(devConnectionString(server), { retryOptions: { maxTries: 1 } });
  container = service.getContainerClient('tagged');
  await container.create();
  await service.getContainerClient('other').create();
});
afterAll(() => server.stop());

describe('blob index tags', () => {
  it('are set with the blob or by Set Blob Tags, read back, counted, and listed', async () => {
    const blob = container.getBlockBlobClient('model.bin');
    await blob.upload('weights', 7, { tags: { project: 'alpha', stage: 'train' } });
    expect((await blob.getTags()).tags).toEqual({ project: 'alpha', stage: 'train' });
    const before = await blob.getProperties();
    expect(before.tagCount).toBe(2);
    await blob.setTags({ project: 'alpha', stage: 'prod', 'owner/team': 'ml:core' });
    const after = await blob.getProperties();
    // Tags are not content: ETag and Last-Modified stay.
    expect([after.etag, after.tagCount]).toEqual([before.etag, 3]);
    expect((await blob.download()).tagCount).toBe(3);
    const listed = [];
    for await (const item of container.listBlobsFlat({ includeTags: true })) listed.push([item.name, item.tags, item.properties.tagCount]);
    expect(listed).toEqual([['model.bin', { project: 'alpha', stage: 'prod', 'owner/team': 'ml:core' }, 3]]);
    await blob.setTags({});
    expect((await blob.getTags()).tags).toEqual({});
    expect((await blob.getProperties()).tagCount).toBeUndefined();
  });

  it('are found by Find Blobs by Tags, in the account or a container, with only the compared tags answered', async () => {
    const put = (box: ContainerClient, name: string, tags: Record<string, string>) => box.getBlockBlobClient(name).upload('x', 1, { tags });
    await put(container, 'a', { project: 'beta', score: '07' });
    await put(container, 'b', { project: 'beta', score: '12' });
    await put(container, 'c', { project: 'gamma', score: '20' });
    await put(service.getContainerClient('other'), 'd', { project: 'beta', score: '30' });
    const found = async (where: string, box?: ContainerClient) => {
      const names = [];
      for await (const item of (box ?? service).findBlobsByTags(where)) names.push(`${item.containerName}/${item.name}:${JSON.stringify(item.tags)}`);
      return names;
    };
    expect(await found(`"project" = 'beta'`)).toEqual(['other/d:{"project":"beta"}', 'tagged/a:{"project":"beta"}', 'tagged/b:{"project":"beta"}']);
    expect(await found(`"project" = 'beta' AND "score" >= '10'`)).toEqual(['other/d:{"project":"beta","score":"30"}', 'tagged/b:{"project":"beta","score":"12"}']);
    expect(await found(`@container = 'tagged' AND "score" < '20'`)).toEqual(['tagged/a:{"score":"07"}', 'tagged/b:{"score":"12"}']);
    expect(await found(`"project" = 'beta'`, container)).toEqual(['tagged/a:{"project":"beta"}', 'tagged/b:{"project":"beta"}']);
    // Pages of one.
    const pages = [];
    for await (const page of service.findBlobsByTags(`"project" = 'beta'`).byPage({ maxPageSize: 1 })) pages.push(page.blobs.map((item) => item.name));
    expect(pages).toEqual([['d'], ['a'], ['b']]);
  });

  it('gate requests by x-ms-if-tags', async () => {
    const blob = container.getBlockBlobClient('gated');
    await blob.upload('x', 1, { tags: { state: 'ready', version: '3' } });
    await blob.setMetadata({ ok: 'yes' }, { conditions: { tagConditions: `"state" = 'ready' AND ("version" > '2' OR "version" = '1')` } });
    expect(statusAndCode(await errorOf(blob.setMetadata({}, { conditions: { tagConditions: `"state" <> 'ready'` } })))).toEqual([412, 'ConditionNotMet']);
    expect(statusAndCode(await errorOf(blob.download(0, undefined, { conditions: { tagConditions: `"missing" = 'x'` } })))).toEqual([412, 'ConditionNotMet']);
    expect(statusAndCode(await errorOf(blob.delete({ conditions: { tagConditions: `"state" = 'busy'` } })))).toEqual([412, 'ConditionNotMet']);
    expect((await blob.getProperties({ conditions: { tagConditions: `"state" = 'ready'` } })).metadata).toEqual({ ok: 'yes' });
  });

  it('refuse tags that break the rules, and malformed expressions, saying what is wrong', async () => {
    const blob = container.getBlockBlobClient('rules');
    await blob.upload('x', 1);
    const tooMany = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    const cases: [Record<string, string>, string][] = [
      [tooMany, 'TagsTooLarge'],
      [{ 'bad!key': 'v' }, 'InvalidTag'],
      [{ k: 'bad#value' }, 'InvalidTag'],
      [{ ['k'.repeat(129)]: 'v' }, 'TagsTooLarge'],
      [{ k: 'v'.repeat(257) }, 'TagsTooLarge'],
      [{ '': 'v' }, 'EmptyTagName'],
    ];
    for (const [tags, errorCode] of cases) expect(statusAndCode(await errorOf(blob.setTags(tags)))).toEqual([400, errorCode]);
    expect(statusAndCode(await errorOf(container.getBlockBlobClient('rules2').upload('x', 1, { tags: { 'bad!': 'v' } })))).toEqual([400, 'InvalidTag']);
    expect(statusAndCode(await errorOf(container.getBlobClient('rules2').getProperties()))).toEqual([404, 'BlobNotFound']);
    // The File package's permission parser has no 'f' (filter), so this one is signed with the Blob package's.
    const sas = generateAccountSASQueryParameters(
      { permissions: AccountSASPermissions.parse('rwdlacf'), resourceTypes: 'sco', services: 'b', expiresOn: new Date(Date.now() + 3600_000) },
      new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY),
    ).toString();
    for (const where of [`"a" = 'b' OR "c" = 'd'`, `"a" = b`, `"a" 'b'`, `("a" = 'b')`, `"a" <> 'b'`, '', `"a" = 'b`, `"a" > '1' AND "a" >= '2'`, `@owner = 'me'`]) {
      const response = await fetch(`${server.blob}/${DEV_ACCOUNT}/?comp=blobs&where=${encodeURIComponent(where)}&${sas}`);
      const text = await response.text();
      expect([where, response.status, response.headers.get('x-ms-error-code')]).toEqual([where, 400, where === '' ? 'MissingRequiredQueryParameter' : 'InvalidQueryParameterValue']);
      expect(text).toContain(where === '' ? 'where' : 'Error parsing query at or near character position');
    }
    // A range bounds one tag from both sides.
    const ranged = await fetch(`${server.blob}/${DEV_ACCOUNT}/?comp=blobs&where=${encodeURIComponent(`"score" >= '10' AND "score" < '20'`)}&${sas}`);
    expect(ranged.status).toBe(200);
    expect(statusAndCode(await errorOf(blob.getProperties({ conditions: { tagConditions: `"a" = ` } })))).toEqual([400, 'InvalidHeaderValue']);
  });
});
