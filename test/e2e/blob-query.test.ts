import type { ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { newDevContainer, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let container: ContainerClient;

beforeAll(async () => {
  server = await startTestServer();
  container = await newDevContainer(server, 'query');
});
afterAll(() => server.stop());

async function text(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream!) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const CSV = 'name,team,score\nada,ml,91\nbob,"data, eng",77\ncy,ml,85\n"dee ""d""",ops,60\n';

describe('Query Blob Contents', () => {
  it('runs SQL over CSV with headers: projections, conditions, COUNT(*) and LIMIT, through the official client', async () => {
    const blob = container.getBlockBlobClient('scores.csv');
    await blob.upload(CSV, CSV.length);
    const csv = { kind: 'csv' as const, hasHeaders: true, recordSeparator: '\n', columnSeparator: ',', fieldQuote: '"' };
    const run = async (expression: string, outputTextConfiguration: object = { kind: 'csv', recordSeparator: '\n' }) =>
      text((await blob.query(expression, { inputTextConfiguration: csv, outputTextConfiguration: outputTextConfiguration as never })).readableStreamBody);

    expect(await run("SELECT name, score FROM BlobStorage WHERE team = 'ml' AND score > 86")).toBe('ada,91\n');
    // Fields are quoted as the output configuration says: with a quote character, or not at all.
    expect(await run('SELECT * FROM BlobStorage WHERE score < 80', { kind: 'csv', recordSeparator: '\n', fieldQuote: '"' })).toBe('bob,"data, eng",77\n"dee ""d""",ops,60\n');
    expect(await run('SELECT * FROM BlobStorage WHERE score < 80')).toBe('bob,data, eng,77\ndee "d",ops,60\n');
    expect(await run("SELECT COUNT(*) FROM BlobStorage WHERE NOT (team = 'ml')")).toBe('2\n');
    expect(await run('SELECT _1 FROM BlobStorage LIMIT 2')).toBe('ada\nbob\n');
    expect(await run("SELECT name FROM BlobStorage WHERE name = 'cy'", { kind: 'json', recordSeparator: '\n' })).toBe('{"name":"cy"}\n');
    const empty = container.getBlockBlobClient('empty.csv');
    await empty.upload('', 0);
    expect(await text((await empty.query('SELECT * FROM BlobStorage')).readableStreamBody)).toBe('');
  });

  it('reads JSON lines, reports a bad record without stopping, and streams large blobs a chunk at a time', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ id: i, kind: i % 3 === 0 ? 'train' : 'test', meta: { epoch: i % 7 } }));
    lines.splice(5, 0, 'not json');
    const body = lines.join('\n') + '\n';
    const blob = container.getBlockBlobClient('events.jsonl');
    await blob.upload(body, Buffer.byteLength(body));
    const problems: string[] = [];
    let progress = 0;
    const answer = await blob.query("SELECT id FROM BlobStorage WHERE kind = 'train' AND meta.epoch = 3", {
      inputTextConfiguration: { kind: 'json', recordSeparator: '\n' },
      outputTextConfiguration: { kind: 'json', recordSeparator: '\n' },
      onError: (error) => problems.push(`${error.name} fatal=${error.isFatal}`),
      onProgress: (event) => (progress = event.loadedBytes),
    });
    const ids = (await text(answer.readableStreamBody)).trim().split('\n').map((line) => JSON.parse(line).id);
    const expected = Array.from({ length: 20_000 }, (_, i) => i).filter((i) => i % 3 === 0 && i % 7 === 3);
    expect(ids).toEqual(expected);
    expect(problems).toEqual(['ParseError fatal=false']);
    expect(progress).toBe(Buffer.byteLength(body));
  });

  it('refuses a query that does not parse, and formats it cannot read, naming what to fix', async () => {
    const blob = container.getBlockBlobClient('bad.csv');
    await blob.upload('a,b\n', 4);
    const bad = await errorOf(blob.query('SELECT FROM BlobStorage'));
    expect(statusAndCode(bad)).toEqual([400, 'InvalidXmlNodeValue']);
    expect(bad.message).toContain('expected a column');
    expect(statusAndCode(await errorOf(blob.query("SELECT * FROM other WHERE a = 'x'")))).toEqual([400, 'InvalidXmlNodeValue']);
    expect(statusAndCode(await errorOf(blob.query('SELECT * FROM BlobStorage', { inputTextConfiguration: { kind: 'parquet' } })))).toEqual([400, 'InvalidXmlNodeValue']);
    expect(statusAndCode(await errorOf(container.getBlockBlobClient('missing.csv').query('SELECT * FROM BlobStorage')))).toEqual([404, 'BlobNotFound']);
  });
});
