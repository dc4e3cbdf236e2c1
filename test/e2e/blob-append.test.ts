import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { fileAccountSas } from '../helpers/file.js';
import { DEV_ACCOUNT, DEV_KEY, devConnectionString, newDevContainer, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let container: ContainerClient;

beforeAll(async () => {
  server = await startTestServer();
  container = await newDevContainer(server, 'append');
});
afterAll(() => server.stop());

describe('append blobs', () => {
  it('are created empty, grow block by block at the offsets answered, and read back whole or by range', async () => {
    const log = container.getAppendBlobClient('app.log');
    await log.create({ blobHTTPHeaders: { blobContentType: 'text/plain' }, metadata: { app: 'trainer' } });
    const first = await log.appendBlock('line 1\n', 7);
    const second = await log.appendBlock('line 2\n', 7, { transactionalContentMD5: createHash('md5').update('line 2\n').digest() });
    expect([first.blobAppendOffset, first.blobCommittedBlockCount, second.blobAppendOffset, second.blobCommittedBlockCount]).toEqual(['0', 1, '7', 2]);
    const large = Buffer.alloc(200 * 1024, 'x');
    expect((await log.appendBlock(large, large.length)).blobAppendOffset).toBe('14');
    const properties = await log.getProperties();
    expect([properties.blobType, properties.contentLength, properties.blobCommittedBlockCount, properties.contentType, properties.metadata]).toEqual([
      'AppendBlob',
      14 + large.length,
      3,
      'text/plain',
      { app: 'trainer' },
    ]);
    const whole = await log.downloadToBuffer();
    expect(whole.subarray(0, 14).toString()).toBe('line 1\nline 2\n');
    expect(whole.subarray(14).equals(large)).toBe(true);
    expect((await log.downloadToBuffer(5, 6)).toString()).toBe('1\nline');
    const listed = [];
    for await (const item of container.listBlobsFlat({ prefix: 'app.log' })) listed.push(item.properties.blobType);
    expect(listed).toEqual(['AppendBlob']);
  });

  it('never interleave concurrent appends: each lands whole at one offset', async () => {
    const log = container.getAppendBlobClient('concurrent.log');
    await log.create();
    const records = Array.from({ length: 40 }, (_, i) => `record ${String(i).padStart(3, '0')} ${'#'.repeat(50)}\n`);
    const answers = await Promise.all(records.map((record) => log.appendBlock(record, record.length)));
    const text = (await log.downloadToBuffer()).toString();
    const offsets = new Set(answers.map((answer) => Number(answer.blobAppendOffset)));
    expect(offsets.size).toBe(40);
    for (const [i, record] of records.entries()) expect(text.slice(Number(answers[i]!.blobAppendOffset), Number(answers[i]!.blobAppendOffset) + record.length)).toBe(record);
    expect(text.split('\n').filter(Boolean).sort()).toEqual(records.map((record) => record.trimEnd()).sort());
  });

  it('commit the appends that arrive together one by one: those whose condition fails are refused, and only they', async () => {
    const log = container.getAppendBlobClient('race.log');
    await log.create();
    // Twenty writers race for position 0: one wins, and every other append is refused whole, in the same moment.
    const racing = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => log.appendBlock(`w${i}`, 2 + String(i).length - 1, { conditions: { appendPosition: 0 } })));
    const won = racing.filter((outcome) => outcome.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const outcome of racing) if (outcome.status === 'rejected') expect(statusAndCode(outcome.reason)).toEqual([412, 'AppendPositionConditionNotMet']);
    const properties = await log.getProperties();
    expect(properties.blobCommittedBlockCount).toBe(1);
    expect(/^w\d+$/.test((await log.downloadToBuffer()).toString())).toBe(true);
  });

  it('honour the append position and max size conditions, and refuse appends once sealed', async () => {
    const log = container.getAppendBlobClient('conditions.log');
    await log.create();
    await log.appendBlock('12345', 5);
    expect(statusAndCode(await errorOf(log.appendBlock('x', 1, { conditions: { appendPosition: 4 } })))).toEqual([412, 'AppendPositionConditionNotMet']);
    expect(statusAndCode(await errorOf(log.appendBlock('xy', 2, { conditions: { maxSize: 6 } })))).toEqual([412, 'MaxBlobSizeConditionNotMet']);
    await log.appendBlock('6', 1, { conditions: { appendPosition: 5, maxSize: 6 } });
    await log.seal();
    expect((await log.getProperties()).isSealed).toBe(true);
    expect(statusAndCode(await errorOf(log.appendBlock('7', 1)))).toEqual([409, 'BlobIsSealed']);
    expect((await log.downloadToBuffer()).toString()).toBe('123456');
  });

  it('are refused the operations of other blob types, and take Append Block From URL', async () => {
    const log = container.getAppendBlobClient('typed.log');
    await log.create();
    const block = container.getBlockBlobClient('typed.log');
    expect(statusAndCode(await errorOf(block.stageBlock(Buffer.from('b').toString('base64'), 'x', 1)))).toEqual([409, 'InvalidBlobType']);
    expect(statusAndCode(await errorOf(log.setAccessTier('Cool')))).toEqual([409, 'InvalidBlobType']);
    const plain = container.getBlockBlobClient('plain');
    await plain.upload('source bytes', 12);
    expect(statusAndCode(await errorOf(container.getAppendBlobClient('plain').appendBlock('x', 1)))).toEqual([409, 'InvalidBlobType']);
    const sas = fileAccountSas(DEV_ACCOUNT, DEV_KEY, 'r', 'b');
    const appended = await log.appendBlockFromURL(`${plain.url}?${sas}`, 7, 5);
    expect(appended.blobAppendOffset).toBe('0');
    expect((await log.downloadToBuffer()).toString()).toBe('bytes');
    // A block blob may replace an append blob of the same name.
    await block.upload('now a block blob', 16);
    expect((await block.getProperties()).blobType).toBe('BlockBlob');
  });

  it('keep every acknowledged append across kill -9', async () => {
    const first = await startTestServer();
    const log = BlobServiceClient.fromConnectionString(devConnectionString(first), { retryOptions: { maxTries: 1 } }).getContainerClient('durable').getAppendBlobClient('wal.log');
    await BlobServiceClient.fromConnectionString(devConnectionString(first)).getContainerClient('durable').create();
    await log.create();
    const acknowledged: string[] = [];
    const appending = (async () => {
      for (let i = 0; i < 500; i++) {
        const record = `entry ${i}\n`;
        await log.appendBlock(record, record.length);
        acknowledged.push(record);
      }
    })().catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    await first.stop('SIGKILL');
    await appending;
    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      const again = BlobServiceClient.fromConnectionString(devConnectionString(second)).getContainerClient('durable').getAppendBlobClient('wal.log');
      const text = (await again.downloadToBuffer()).toString();
      expect(acknowledged.length).toBeGreaterThan(0);
      expect(text.startsWith(acknowledged.join(''))).toBe(true);
      // Whatever went past the last acknowledgement is whole records only.
      expect(text.split('\n').filter(Boolean).every((line, i) => line === `entry ${i}`)).toBe(true);
      expect((await again.getProperties()).blobCommittedBlockCount).toBe(text.split('\n').filter(Boolean).length);
    } finally {
      await second.stop();
    }
  });
});
