import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cliIn, type CliResult } from '../helpers/cli.js';
import { managementClients } from '../helpers/management.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/mlspace.js');
const MiB = 1024 * 1024;
const GROUP = 'rg-data';
const ACCOUNT = 'dataacct';

function ok(result: CliResult): CliResult {
  expect(result.code, result.stderr).toBe(0);
  return result;
}

/** A failure: one line on stderr, with the exit code; returns that line. */
function failed(result: CliResult, exitCode: number): string {
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(exitCode);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).not.toMatch(/\bat .+:\d+:\d+/);
  return lines[0]!;
}

const json = (result: CliResult) => JSON.parse(ok(result).stdout);

/** A file's SHA-1, streamed (a fast hash: this compares bytes, it defends against no one). */
async function digest(file: string): Promise<string> {
  const hash = createHash('sha1');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

describe('mlspace storage blob|container|file|directory, shaped as az storage', { timeout: 120_000 }, () => {
  let home: string;
  let work: string;
  let server: TestServer;
  let cli: ReturnType<typeof cliIn>;
  let key: string;
  let connectionString: string;
  /** `--account-name dataacct`: the key is looked up through the login. */
  const byName = ['--account-name', ACCOUNT];

  /** The CLI, with its peak resident memory sampled from the kernel while it runs. */
  function cliMeasured(...args: string[]): Promise<CliResult & { peakRss: number }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, MLSPACE_HOME: home } });
      let stdout = '';
      let stderr = '';
      let peakRss = 0;
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const sample = setInterval(() => {
        try {
          const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
          peakRss = Math.max(peakRss, Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024);
        } catch {
          // The process has just exited.
        }
      }, 50);
      child.on('close', (code) => {
        clearInterval(sample);
        resolve({ code: code ?? 1, stdout, stderr, peakRss });
      });
    });
  }

  const write = (relative: string, content: string | Buffer) => {
    const file = path.join(work, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    return file;
  };

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-cli-data-'));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-cli-data-work-'));
    server = await startTestServer({ dataDir: path.join(home, 'data') });
    cli = cliIn(home);
    ok(await cli('login', '-o', 'none'));
    ok(await cli('group', 'create', '-n', GROUP, '-l', 'westeurope', '-o', 'none'));
    ok(await cli('storage', 'account', 'create', '-n', ACCOUNT, '-g', GROUP, '-o', 'none'));
    const [keys, connection] = await Promise.all([
      cli('storage', 'account', 'keys', 'list', '-g', GROUP, '-n', ACCOUNT, '--query', '[0].value', '-o', 'tsv'),
      cli('storage', 'account', 'show-connection-string', '-g', GROUP, '-n', ACCOUNT, '--query', 'connectionString', '-o', 'tsv'),
    ]);
    key = ok(keys).stdout.trim();
    connectionString = ok(connection).stdout.trim();
  });
  afterAll(async () => {
    await server?.stop();
    for (const dir of [home, work]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('blob upload, show, exists, list, download, url, metadata, tier and delete, with --account-name alone', async () => {
    expect(json(await cli('storage', 'container', 'create', '-n', 'data', ...byName))).toEqual({ created: true });
    const hello = write('hello.txt', 'hello, blob\n');
    const uploaded = json(await cli('storage', 'blob', 'upload', '-c', 'data', '-f', hello, '--metadata', 'source=test', 'stage=raw', ...byName));
    expect(uploaded).toMatchObject({ etag: expect.stringMatching(/^"0x/), lastModified: expect.any(String), request_server_encrypted: true });

    // As az: an existing blob is an error naming --overwrite, which replaces it.
    const again = write('again.txt', 'hello again\n');
    const [refused, replaced, other] = await Promise.all([
      cli('storage', 'blob', 'upload', '-c', 'data', '-f', hello, ...byName),
      cli('storage', 'blob', 'upload', '-c', 'data', '-n', 'hello.txt', '-f', again, '--overwrite', '--metadata', 'source=test', '-o', 'none', ...byName),
      cli('storage', 'blob', 'upload', '-c', 'data', '-n', 'dir/b.json', '-f', again, '--overwrite', 'true', '-o', 'none', ...byName),
    ]);
    expect(failed(refused, 1)).toBe("ERROR: The blob 'hello.txt' already exists in container 'data'. Add --overwrite to replace it.");
    ok(replaced);
    ok(other);

    const target = path.join(work, 'downloaded.txt');
    const [show, exists, missing, list, table, url, toStdout, first, marked, prefixed, delimited, downloading] = await Promise.all([
      cli('storage', 'blob', 'show', '-c', 'data', '-n', 'hello.txt', ...byName),
      cli('storage', 'blob', 'exists', '-c', 'data', '-n', 'hello.txt', ...byName),
      cli('storage', 'blob', 'exists', '-c', 'data', '-n', 'nope.txt', ...byName),
      cli('storage', 'blob', 'list', '-c', 'data', ...byName),
      cli('storage', 'blob', 'list', '-c', 'data', '-o', 'table', ...byName),
      cli('storage', 'blob', 'url', '-c', 'data', '-n', 'dir/b.json', ...byName),
      cli('storage', 'blob', 'download', '-c', 'data', '-n', 'hello.txt', ...byName),
      cli('storage', 'blob', 'list', '-c', 'data', '--num-results', '1', '--query', '[].name', ...byName),
      cli('storage', 'blob', 'list', '-c', 'data', '--num-results', '1', '--show-next-marker', ...byName),
      cli('storage', 'blob', 'list', '-c', 'data', '--prefix', 'dir/', '--query', '[].name', ...byName),
      cli('storage', 'blob', 'list', '-c', 'data', '--delimiter', '/', '--query', '[].name', ...byName),
      cli('storage', 'blob', 'download', '-c', 'data', '-n', 'hello.txt', '-f', target, ...byName),
    ]);
    expect(json(show)).toMatchObject({
      name: 'hello.txt',
      container: 'data',
      metadata: { source: 'test' },
      snapshot: null,
      properties: { blobType: 'BlockBlob', contentLength: 12, contentSettings: { contentType: 'text/plain' }, lastModified: expect.any(String) },
    });
    expect(json(exists)).toEqual({ exists: true });
    expect(json(missing)).toEqual({ exists: false });
    const items = json(list);
    expect(items.map((item: { name: string }) => item.name)).toEqual(['dir/b.json', 'hello.txt']);
    // As az, the content type is guessed from the local file's name (again.txt), not the blob's.
    expect(items[0]).toMatchObject({ properties: { contentLength: 12, contentSettings: { contentType: 'text/plain' }, blobType: 'BlockBlob' }, metadata: {}, snapshot: null });
    const rows = ok(table).stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^Name +Blob Type +Blob Tier +Length +Content Type +Last Modified +Snapshot$/);
    expect(rows[2]).toMatch(/^dir\/b\.json +BlockBlob +Hot +12 +text\/plain /);
    for (const row of rows) expect(row.length).toBeLessThanOrEqual(120);
    expect(json(url)).toBe(`${server.blob}/${ACCOUNT}/data/dir/b.json`);
    expect(ok(toStdout).stdout).toBe('hello again\n');
    // One at a time, with the marker that goes on, as az's --num-results.
    expect(json(first)).toEqual(['dir/b.json']);
    expect(first.stderr).toMatch(/^WARNING: Next Marker:\nWARNING: \S+\n$/);
    const markedItems = json(marked);
    expect(markedItems).toHaveLength(2);
    expect(json(prefixed)).toEqual(['dir/b.json']);
    expect(json(delimited)).toEqual(['dir/', 'hello.txt']);
    expect(json(downloading)).toMatchObject({ name: 'hello.txt', properties: { contentLength: 12 } });
    expect(fs.readFileSync(target, 'utf8')).toBe('hello again\n');

    const [rest, kept, metadata, tier] = await Promise.all([
      cli('storage', 'blob', 'list', '-c', 'data', '--marker', markedItems[1].nextMarker, '--query', '[].name', ...byName),
      cli('storage', 'blob', 'download', '-c', 'data', '-n', 'hello.txt', '-f', target, '--overwrite', 'false', ...byName),
      cli('storage', 'blob', 'metadata', 'update', '-c', 'data', '-n', 'hello.txt', '--metadata', 'owner=ml', ...byName),
      cli('storage', 'blob', 'set-tier', '-c', 'data', '-n', 'hello.txt', '--tier', 'cool', ...byName),
    ]);
    expect(json(rest)).toEqual(['hello.txt']);
    expect(failed(kept, 1)).toContain('already exists, and --overwrite is false');
    expect(json(metadata)).toMatchObject({ etag: expect.any(String), lastModified: expect.any(String) });
    expect(ok(tier).stdout).toBe('');
    expect(json(await cli('storage', 'blob', 'show', '-c', 'data', '-n', 'hello.txt', '--query', '{metadata: metadata, tier: properties.blobTier}', ...byName))).toEqual({
      metadata: { owner: 'ml' },
      tier: 'Cool',
    });

    const deleted = ok(await cli('storage', 'blob', 'delete', '-c', 'data', '-n', 'hello.txt', ...byName));
    expect(deleted.stdout).toBe('');
    const [deleteAgain, showGone] = await Promise.all([
      cli('storage', 'blob', 'delete', '-c', 'data', '-n', 'hello.txt', ...byName),
      cli('storage', 'blob', 'show', '-c', 'data', '-n', 'hello.txt', ...byName),
    ]);
    expect(failed(deleteAgain, 3)).toBe("ERROR: The blob 'hello.txt' was not found in container 'data'.");
    expect(failed(showGone, 3)).toContain("The blob 'hello.txt' was not found");
  });

  test('containers with --connection-string and --account-key; SAS tokens from generate-sas work with --sas-token', async () => {
    const withKey = ['--account-name', ACCOUNT, '--account-key', key];
    const withConnection = ['--connection-string', connectionString];
    expect(json(await cli('storage', 'container', 'create', '-n', 'shared-c', '--metadata', 'team=ml', ...withConnection))).toEqual({ created: true });
    const file = write('sas/upload.csv', 'a,b\n1,2\n');
    // A container SAS (from the key looked up through the login), to be used alone with --sas-token.
    const [again, failing, list, table, show, exists, signing] = await Promise.all([
      cli('storage', 'container', 'create', '-n', 'shared-c', ...withKey),
      cli('storage', 'container', 'create', '-n', 'shared-c', '--fail-on-exist', ...withKey),
      cli('storage', 'container', 'list', '--include-metadata', ...withConnection),
      cli('storage', 'container', 'list', '-o', 'table', ...withKey),
      cli('storage', 'container', 'show', '-n', 'shared-c', ...withConnection),
      cli('storage', 'container', 'exists', '-n', 'shared-c', ...withKey),
      cli('storage', 'container', 'generate-sas', '-n', 'shared-c', '--permissions', 'racwdl', '--expiry', '2099-01-01T00:00Z', ...byName),
    ]);
    expect(json(again)).toEqual({ created: false });
    expect(failed(failing, 1)).toBe("ERROR: The container 'shared-c' already exists.");
    const containers = json(list);
    expect(containers.find((item: { name: string }) => item.name === 'shared-c')).toMatchObject({ metadata: { team: 'ml' }, properties: { lease: { status: 'unlocked' }, lastModified: expect.any(String) } });
    const rows = ok(table).stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^Name +Lease Status +Last Modified$/);
    for (const row of rows) expect(row.length).toBeLessThanOrEqual(120);
    expect(json(show)).toMatchObject({ name: 'shared-c', metadata: { team: 'ml' }, properties: { etag: expect.any(String) } });
    expect(json(exists)).toEqual({ exists: true });
    const sas = json(signing);
    expect(sas).toMatch(/^sv=.*&sp=racwdl&sig=/);
    expect(sas).not.toContain(key);

    const withSas = ['--account-name', ACCOUNT, '--sas-token', sas];
    ok(await cli('storage', 'blob', 'upload', '-c', 'shared-c', '-f', file, '-o', 'none', ...withSas));
    const [listed, url, readSigning, fullSigning] = await Promise.all([
      cli('storage', 'blob', 'list', '-c', 'shared-c', '--query', '[].name', ...withSas),
      cli('storage', 'blob', 'url', '-c', 'shared-c', '-n', 'upload.csv', ...withSas),
      cli('storage', 'blob', 'generate-sas', '-c', 'shared-c', '-n', 'upload.csv', '--permissions', 'r', '--expiry', '2099-01-01T00:00:00Z', ...withConnection),
      cli('storage', 'blob', 'generate-sas', '-c', 'shared-c', '-n', 'upload.csv', '--permissions', 'r', '--expiry', '2099-01-01Z', '--full-uri', ...withKey),
    ]);
    expect(json(listed)).toEqual(['upload.csv']);
    // `blob url` with a SAS carries it, as az's does.
    expect(json(url)).toBe(`${server.blob}/${ACCOUNT}/shared-c/upload.csv?${sas}`);
    const fullUri = json(fullSigning);
    expect(fullUri).toMatch(new RegExp(`^${server.blob}/${ACCOUNT}/shared-c/upload\\.csv\\?sv=.*&sp=r&sig=`));
    const response = await fetch(fullUri);
    expect([response.status, await response.text()]).toEqual([200, 'a,b\n1,2\n']);

    // A read-only blob SAS reads, and is refused a write with the service's reason.
    const readOnly = json(readSigning);
    const readBack = path.join(work, 'sas', 'read.csv');
    const [reading, writing] = await Promise.all([
      cli('storage', 'blob', 'download', '-c', 'shared-c', '-n', 'upload.csv', '-f', readBack, '-o', 'none', '--account-name', ACCOUNT, '--sas-token', readOnly),
      cli('storage', 'blob', 'upload', '-c', 'shared-c', '-n', 'upload.csv', '-f', file, '--overwrite', '--account-name', ACCOUNT, '--sas-token', readOnly),
    ]);
    ok(reading);
    expect(fs.readFileSync(readBack, 'utf8')).toBe('a,b\n1,2\n');
    expect(failed(writing, 1)).toMatch(/^ERROR: \(AuthorizationPermissionMismatch\) /);

    expect(json(await cli('storage', 'container', 'delete', '-n', 'shared-c', ...withConnection))).toEqual({ deleted: true });
    const [deleteAgain, showGone] = await Promise.all([
      cli('storage', 'container', 'delete', '-n', 'shared-c', ...withKey),
      cli('storage', 'container', 'show', '-n', 'shared-c', ...withKey),
    ]);
    expect(json(deleteAgain)).toEqual({ deleted: false });
    expect(failed(showGone, 3)).toBe("ERROR: The container 'shared-c' does not exist.");
  });

  test('file shares: upload, list, download, delete, generate-sas, directories, and batches with --pattern', async () => {
    const withConnection = ['--connection-string', connectionString];
    ok(await cli('storage', 'share', 'create', '-n', 'reports', '-o', 'none', ...byName));
    const report = write('report.txt', 'quarterly\n');
    const [docs, top] = await Promise.all([
      cli('storage', 'directory', 'create', '-s', 'reports', '-n', 'docs', ...byName),
      cli('storage', 'file', 'upload', '-s', 'reports', '--source', report, '-p', 'top.txt', '--metadata', 'kind=summary', '-o', 'none', ...withConnection),
    ]);
    expect(json(docs)).toEqual({ created: true });
    ok(top);
    expect(json(await cli('storage', 'directory', 'create', '-s', 'reports', '-n', 'docs/2024', ...withConnection))).toEqual({ created: true });
    // --path naming a directory puts the file in it under its own name, as az does.
    const uploaded = json(await cli('storage', 'file', 'upload', '-s', 'reports', '--source', report, '-p', 'docs/2024', ...byName));
    expect(uploaded).toMatchObject({ etag: expect.any(String), last_modified: expect.any(String) });

    for (let i = 0; i < 6; i++) write(`share-batch/${i % 2 ? 'csv' : 'txt'}/f${i}.${i % 2 ? 'csv' : 'txt'}`, `row ${i}\n`);
    const into = path.join(work, 'file-download');
    fs.mkdirSync(into);
    const [root, inside, table, directories, downloading, signing, badLetters, batching, noShare] = await Promise.all([
      cli('storage', 'file', 'list', '-s', 'reports', ...byName),
      cli('storage', 'file', 'list', '-s', 'reports', '-p', 'docs/2024', ...withConnection),
      cli('storage', 'file', 'list', '-s', 'reports', '-o', 'table', ...byName),
      cli('storage', 'directory', 'list', '-s', 'reports', '--query', '[].name', ...byName),
      cli('storage', 'file', 'download', '-s', 'reports', '-p', 'docs/2024/report.txt', '--dest', into, ...byName),
      cli('storage', 'file', 'generate-sas', '-s', 'reports', '-p', 'top.txt', '--permissions', 'r', '--expiry', '2099-01-01T00:00Z', ...byName),
      cli('storage', 'file', 'generate-sas', '-s', 'reports', '-p', 'top.txt', '--permissions', 'rl', '--expiry', '2099-01-01Z', ...byName),
      // Batches: every file under the source up, then those --pattern selects back.
      cli('storage', 'file', 'upload-batch', '-d', 'reports', '-s', path.join(work, 'share-batch'), '--destination-path', 'batch', ...withConnection),
      cli('storage', 'file', 'download-batch', '-s', 'no-such-share', '-d', into, ...byName),
    ]);
    expect(json(root).map((item: { name: string; type: string }) => [item.name, item.type])).toEqual(expect.arrayContaining([
      ['docs', 'dir'],
      ['top.txt', 'file'],
    ]));
    expect(json(inside)).toEqual([expect.objectContaining({ name: 'report.txt', type: 'file', properties: expect.objectContaining({ contentLength: 10 }) })]);
    const rows = ok(table).stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^Name +Content Length +Type +Last Modified$/);
    expect(rows).toContainEqual(expect.stringMatching(/^docs\/ +dir /));
    for (const row of rows) expect(row.length).toBeLessThanOrEqual(120);
    expect(json(directories)).toEqual(expect.arrayContaining(['docs']));
    expect(json(downloading)).toMatchObject({ name: 'report.txt', path: 'docs/2024/report.txt', share: 'reports', properties: { contentLength: 10 } });
    expect(fs.readFileSync(path.join(into, 'report.txt'), 'utf8')).toBe('quarterly\n');
    const response = await fetch(`${server.file}/${ACCOUNT}/reports/top.txt?${json(signing)}`);
    expect([response.status, await response.text()]).toEqual([200, 'quarterly\n']);
    expect(failed(badLetters, 2)).toContain("'l' is not a permission of a file SAS; use letters of 'rcwd'");
    expect(failed(noShare, 3)).toBe("ERROR: The share 'no-such-share' does not exist.");
    const batch = json(batching);
    expect(batch).toHaveLength(6);
    expect(batch[0]).toBe(`${server.file}/${ACCOUNT}/reports/batch/csv/f1.csv`);

    const back = path.join(work, 'share-back');
    fs.mkdirSync(back);
    const [fetching, deleting] = await Promise.all([
      cli('storage', 'file', 'download-batch', '-s', 'reports', '-d', back, '--pattern', 'batch/*.csv', ...byName),
      cli('storage', 'file', 'delete', '-s', 'reports', '-p', 'docs/2024/report.txt', ...byName),
    ]);
    expect(json(fetching).map((url: string) => url.split('/reports/')[1])).toEqual(['batch/csv/f1.csv', 'batch/csv/f3.csv', 'batch/csv/f5.csv']);
    expect(fs.readFileSync(path.join(back, 'batch', 'csv', 'f3.csv'), 'utf8')).toBe('row 3\n');
    expect(fs.existsSync(path.join(back, 'batch', 'txt'))).toBe(false);
    expect(json(deleting)).toEqual({ deleted: true });

    const [deletedAgain, notEmpty] = await Promise.all([
      cli('storage', 'file', 'delete', '-s', 'reports', '-p', 'docs/2024/report.txt', ...byName),
      cli('storage', 'directory', 'delete', '-s', 'reports', '-n', 'docs', ...byName),
    ]);
    expect(failed(deletedAgain, 3)).toContain("The file 'docs/2024/report.txt' was not found in share 'reports'");
    expect(failed(notEmpty, 1)).toMatch(/^ERROR: \(DirectoryNotEmpty\) /);
    expect(json(await cli('storage', 'directory', 'delete', '-s', 'reports', '-n', 'docs/2024', ...byName))).toEqual({ deleted: true });
    expect(json(await cli('storage', 'directory', 'delete', '-s', 'reports', '-n', 'docs/2024', ...byName))).toEqual({ deleted: false });
  });

  test('bad input is refused with an error that names the fix', async () => {
    const hello = write('bad/hello.txt', 'hi\n');
    const cases: [string[], number, string | RegExp][] = [
      [['storage', 'blob', 'upload', '-f', hello, ...byName], 2, "required option '-c, --container-name <name>' not specified"],
      [['storage', 'blob', 'upload', '-c', 'data', '-f', path.join(work, 'bad', 'nope.txt'), ...byName], 2, `ERROR: --file: there is no file '${path.join(work, 'bad', 'nope.txt')}'. Give the path of an existing file.`],
      [['storage', 'blob', 'upload', '-c', 'data', '-f', path.join(work, 'bad'), ...byName], 2, 'is not a file but a directory; upload a directory with upload-batch'],
      [['storage', 'blob', 'list', '-c', 'data'], 2, 'ERROR: Give the storage account: --account-name NAME'],
      [['storage', 'blob', 'list', '-c', 'data', '--account-key', key], 2, 'ERROR: --account-key needs --account-name'],
      [['storage', 'blob', 'list', '-c', 'data', '--connection-string', connectionString, ...byName], 2, 'ERROR: --connection-string names the account and its credential'],
      [['storage', 'blob', 'list', '-c', 'data', '--connection-string', 'garbage'], 2, "ERROR: --connection-string: 'garbage' is not a Key=Value pair"],
      [['storage', 'blob', 'list', '-c', 'data', '--account-name', 'nosuchacct'], 3, "ERROR: Storage account 'nosuchacct' was not found in subscription"],
      [['storage', 'blob', 'list', '-c', 'data', '--num-results', '0', ...byName], 2, "expected a positive number, or '*' for all"],
      [['storage', 'blob', 'set-tier', '-c', 'data', '-n', 'x', '--tier', 'Lukewarm', ...byName], 2, 'expected a block blob tier (Hot, Cool, Cold, Archive)'],
      [['storage', 'container', 'generate-sas', '-n', 'data', '--permissions', 'r', '--expiry', '2030-13-01T00:00Z', ...byName], 2, "'2030-13-01T00:00Z' is not a UTC date-time; give it as 2030-12-31T12:59Z"],
      [['storage', 'container', 'generate-sas', '-n', 'data', '--permissions', 'r', '--expiry', '2030-01-01T00:00', ...byName], 2, '(the Z is required)'],
      [['storage', 'container', 'generate-sas', '-n', 'data', '--permissions', 'r', '--expiry', '2001-01-01T00:00Z', ...byName], 2, 'ERROR: --expiry 2001-01-01T00:00:00.000Z is in the past'],
      [['storage', 'container', 'generate-sas', '-n', 'data', '--permissions', 'rq', '--expiry', '2099-01-01Z', ...byName], 2, "'q' is not a permission of a container SAS; use letters of 'racwdxytmeilf'"],
      [['storage', 'container', 'generate-sas', '-n', 'data', '--expiry', '2099-01-01Z', ...byName], 2, "required option '--permissions <letters>' not specified"],
      [['storage', 'container', 'generate-sas', '-n', 'data', '--permissions', 'r', '--expiry', '2099-01-01Z', '--account-name', ACCOUNT, '--sas-token', 'sv=x'], 2, 'ERROR: Signing a SAS needs the account key'],
      [['storage', 'blob', 'upload-batch', '-d', 'data', '-s', hello, ...byName], 2, `ERROR: --source: '${hello}' is not an existing directory.`],
      [['storage', 'blob', 'download-batch', '-s', 'data', '-d', path.join(work, 'missing-dir'), ...byName], 2, 'is not an existing directory'],
      [['storage', 'blob', 'show', '-c', 'no-such-container', '-n', 'x', ...byName], 3, "ERROR: The blob 'x' was not found in container 'no-such-container'"],
      [['storage', 'blob', 'download-batch', '-s', 'no-such-container', '-d', work, ...byName], 3, 'ERROR: (ContainerNotFound) '],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    results.forEach((result, i) => {
      const [args, exitCode, message] = cases[i]!;
      expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(exitCode);
      expect(result.stdout, args.join(' ')).toBe('');
      if (typeof message === 'string') expect(result.stderr, args.join(' ')).toContain(message);
      else expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\bat .+:\d+:\d+/);
    });
  });

  test('every data command has --help with examples and the auth options', async () => {
    // The command tree in this process: one CLI process per command would cost a second of the suite each.
    const { registerStorageData } = await import('../../src/cli/commands/storage-data/index.js');
    let written = '';
    const storage = new Command('storage').configureOutput({ writeOut: (text) => (written += text) });
    registerStorageData(storage);
    const leaves = (command: Command): Command[] => (command.commands.length === 0 ? [command] : command.commands.flatMap(leaves));
    const commands = leaves(storage);
    expect(commands.map((command) => command.name()).sort()).toEqual(
      [
        ...['create', 'list', 'show', 'exists', 'delete', 'generate-sas'],
        ...['upload', 'download', 'list', 'show', 'exists', 'delete', 'generate-sas', 'url', 'update', 'set-tier', 'upload-batch', 'download-batch', 'delete-batch'],
        'create',
        ...['upload', 'download', 'list', 'delete', 'generate-sas', 'upload-batch', 'download-batch'],
        ...['create', 'list', 'delete'],
      ].sort(),
    );
    for (const command of commands) {
      written = '';
      command.outputHelp();
      expect(written, command.name()).toMatch(/\nExamples:\n {2}(mlspace storage|SAS=)/);
      for (const option of ['--account-name', '--account-key', '--sas-token', '--connection-string', '--output', '--query']) expect(written, command.name()).toContain(option);
    }
    // And as a user sees it.
    expect(ok(await cli('storage', 'blob', 'upload-batch', '--help')).stdout).toContain("\nExamples:\n  mlspace storage blob upload-batch -d training -s ./data --account-name mystorageaccount\n");
  });

  test('a 1 GiB file uploads and downloads through streams, in bounded memory', async () => {
    ok(await cli('storage', 'container', 'create', '-n', 'large', '-o', 'none', ...byName));
    // Sparse, with a distinct stamp in every 4 MiB block, so that a block out of place changes the hash.
    const source = path.join(work, 'one-gib.bin');
    const fd = fs.openSync(source, 'w');
    fs.ftruncateSync(fd, 1024 * MiB);
    for (let block = 0; block < 256; block++) fs.writeSync(fd, Buffer.from(`block ${block}`), 0, undefined, block * 4 * MiB + 1000);
    fs.closeSync(fd);

    // The source is hashed while the CLI uploads it: the test's process is idle meanwhile.
    const [upload, sourceHash] = await Promise.all([cliMeasured('storage', 'blob', 'upload', '-c', 'large', '-f', source, '-o', 'none', ...byName), digest(source)]);
    expect(upload.code, upload.stderr).toBe(0);
    const target = path.join(work, 'one-gib.out');
    const download = await cliMeasured('storage', 'blob', 'download', '-c', 'large', '-n', 'one-gib.bin', '-f', target, '--query', 'properties.contentLength', ...byName);
    expect(download.code, download.stderr).toBe(0);
    expect(JSON.parse(download.stdout)).toBe(1024 * MiB);
    expect(await digest(target)).toBe(sourceHash);
    // A CLI that read the file into memory would hold at least 1 GiB; streaming holds a few blocks.
    expect(upload.peakRss).toBeGreaterThan(0);
    expect(upload.peakRss).toBeLessThan(300 * MiB);
    expect(download.peakRss).toBeLessThan(300 * MiB);
    fs.rmSync(source);
    fs.rmSync(target);
    ok(await cli('storage', 'blob', 'delete', '-c', 'large', '-n', 'one-gib.bin', ...byName));
  });

  test('1,000 files: upload-batch, then download-batch and delete-batch with --pattern', async () => {
    const source = path.join(work, 'thousand');
    for (let dir = 0; dir < 10; dir++) {
      fs.mkdirSync(path.join(source, `d${dir}`), { recursive: true });
      for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(source, `d${dir}`, `f${String(i).padStart(3, '0')}.${i % 2 ? 'csv' : 'txt'}`), `file ${dir}/${i}\n`);
    }
    fs.writeFileSync(path.join(source, 'notes.log'), 'not selected\n');
    const withConnection = ['--connection-string', connectionString];
    ok(await cli('storage', 'container', 'create', '-n', 'thousand', '-o', 'none', ...withConnection));

    const uploaded = json(await cli('storage', 'blob', 'upload-batch', '-d', 'thousand', '-s', source, '--pattern', 'd*', '--destination-path', 'set', ...withConnection));
    expect(uploaded).toHaveLength(1000);
    expect(uploaded[0]).toMatchObject({ Blob: `${server.blob}/${ACCOUNT}/thousand/set/d0/f000.txt`, Type: 'text/plain', 'Last Modified': expect.any(String), eTag: expect.any(String) });
    expect(uploaded[1]).toMatchObject({ Type: 'text/csv' });

    const into = path.join(work, 'thousand-back');
    fs.mkdirSync(into);
    // Reads side by side: a repeated upload (without --overwrite it replaces nothing), dry runs, and a download.
    const [again, dryrun, downloading, preview] = await Promise.all([
      cli('storage', 'blob', 'upload-batch', '-d', 'thousand', '-s', source, '--pattern', 'd0/*', '--destination-path', 'set', ...withConnection),
      cli('storage', 'blob', 'upload-batch', '-d', 'thousand', '-s', source, '--pattern', '*.log', '--dryrun', ...withConnection),
      cli('storage', 'blob', 'download-batch', '-s', 'thousand', '-d', into, '--pattern', '*.csv', ...byName),
      cli('storage', 'blob', 'delete-batch', '-s', 'thousand', '--pattern', 'set/d[0-4]/*', '--dryrun', ...byName),
    ]);
    expect(JSON.parse(ok(again).stdout)).toEqual([]);
    expect(again.stderr).toBe('WARNING: 100 of 100 files were not uploaded because blobs of their names exist (set/d0/f000.txt, set/d0/f001.csv, set/d0/f002.txt, set/d0/f003.csv, set/d0/f004.txt, and 95 more); add --overwrite to replace them.\n');
    expect(JSON.parse(ok(dryrun).stdout)).toEqual([{ Blob: `${server.blob}/${ACCOUNT}/thousand/notes.log`, Type: 'text/plain', 'Last Modified': null, eTag: null }]);
    const downloaded = json(downloading);
    expect(downloaded).toHaveLength(500);
    expect(downloaded[0]).toBe('set/d0/f001.csv');
    expect(fs.readFileSync(path.join(into, 'set', 'd7', 'f099.csv'), 'utf8')).toBe('file 7/99\n');
    expect(fs.existsSync(path.join(into, 'set', 'd7', 'f098.txt'))).toBe(false);
    expect(JSON.parse(ok(preview).stdout)).toEqual([]);
    expect(preview.stderr).toContain('WARNING:       total 500\n');
    const deleted = await cli('storage', 'blob', 'delete-batch', '-s', 'thousand', '--pattern', 'set/d[0-4]/*', '--account-name', ACCOUNT, '--account-key', key);
    expect([ok(deleted).stdout, deleted.stderr]).toEqual(['', '']);
    const left = json(await cli('storage', 'blob', 'list', '-c', 'thousand', '--num-results', '*', '--query', '[].name', ...byName));
    expect(left).toHaveLength(500);
    expect(left.every((name: string) => /^set\/d[5-9]\//.test(name))).toBe(true);
  });

  test('a batch that fails midway names what was and was not uploaded, and why', async () => {
    ok(await cli('storage', 'container', 'create', '-n', 'partial', '-o', 'none', ...byName));
    const source = path.join(work, 'partial');
    for (let i = 0; i < 10; i++) write(`partial/a${i}.txt`, `a${i}\n`);
    for (let i = 0; i < 10; i++) write(`partial/z${i}.txt`, `z${i}\n`);
    // Blob names are at most 1,024 characters: the service refuses this one, after the a* files went up.
    const long = path.join('m', ...Array.from({ length: 5 }, (_, i) => `${i}`.repeat(230)), 'x.txt');
    write(path.join('partial', long), 'too long a name\n');

    const result = await cli('storage', 'blob', 'upload-batch', '-d', 'partial', '-s', source, '--overwrite', ...byName);
    const line = failed(result, 1);
    const match = /^ERROR: (\d+) of 21 files were uploaded \((.*?)\); (\d+) were not \((.*?)\), because '(m\/.+)' failed: \(InvalidResourceName\) (.*)$/.exec(line);
    expect(match, line).not.toBeNull();
    const [, done, doneNames, notDone, , failedName, reason] = match!;
    expect(Number(done) + Number(notDone)).toBe(21);
    // The files in flight when it failed are left to finish: every a* file went up, no z* file after them.
    expect(Number(done)).toBeGreaterThanOrEqual(10);
    expect(doneNames).toMatch(/^a0\.txt, a1\.txt, a2\.txt, a3\.txt, a4\.txt, and \d+ more$/);
    expect(failedName).toBe(long.split(path.sep).join('/'));
    expect(reason).toContain('a blob name must be 1-1024 characters');
    // What was uploaded is also printed, as a successful batch prints it, and is exactly what the container holds.
    const printed = JSON.parse(result.stdout).map((row: { Blob: string }) => row.Blob.split('/partial/')[1]);
    expect(printed).toHaveLength(Number(done));
    expect(json(await cli('storage', 'blob', 'list', '-c', 'partial', '--query', '[].name', ...byName))).toEqual(printed);
  });

  test('a batch whose account key is regenerated midway stops, naming what was uploaded', async () => {
    const management = managementClients(server);
    await management.storage.storageAccounts.listKeys(GROUP, ACCOUNT);
    ok(await cli('storage', 'container', 'create', '-n', 'rotating', '-o', 'none', ...byName));
    const source = path.join(work, 'rotating');
    for (let i = 0; i < 200; i++) write(`rotating/f${String(i).padStart(3, '0')}.txt`, `${i}\n`);
    // Some larger files keep the batch going long enough for the key to change under it.
    for (let i = 0; i < 200; i += 25) {
      const fd = fs.openSync(path.join(source, `f${String(i).padStart(3, '0')}.bin`), 'w');
      fs.ftruncateSync(fd, 16 * MiB);
      fs.closeSync(fd);
    }
    // key2 signs the batch and is regenerated under it; key1, which the other tests use, stays.
    const [firstKey, secondKey] = (await management.storage.storageAccounts.listKeys(GROUP, ACCOUNT)).keys!.map((entry) => entry.value!);
    const running = cli('storage', 'blob', 'upload-batch', '-d', 'rotating', '-s', source, '--account-name', ACCOUNT, '--account-key', secondKey!);
    const container = new ContainerClient(`${server.blob}/${ACCOUNT}/rotating`, new StorageSharedKeyCredential(ACCOUNT, firstKey!));
    for (let count = 0; count < 10; ) {
      count = 0;
      for await (const _ of container.listBlobsFlat()) count++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await management.storage.storageAccounts.regenerateKey(GROUP, ACCOUNT, { keyName: 'key2' });
    const result = await running;
    const line = failed(result, 1);
    const match = /^ERROR: (\d+) of 208 files were uploaded \(.*\); (\d+) were not \(.*\), because '.+' failed: \(AuthenticationFailed\) .* The account key was refused: it may have been regenerated; /.exec(line);
    expect(match, line).not.toBeNull();
    const [, done, notDone] = match!.map(Number);
    expect(done! + notDone!).toBe(208);
    expect(notDone).toBeGreaterThan(0);
    const printed = JSON.parse(result.stdout).map((row: { Blob: string }) => row.Blob.split('/rotating/')[1]).sort();
    const stored: string[] = [];
    for await (const blob of container.listBlobsFlat()) stored.push(blob.name);
    expect(printed).toHaveLength(done!);
    expect(stored.sort()).toEqual(printed);
  });
});
