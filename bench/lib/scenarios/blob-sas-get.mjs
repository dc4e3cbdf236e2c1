// 1 KiB GET through a read-only SAS URL: the hot path of serving small objects
// (auth by signature, metadata lookup, bytes), against the bare node:http ceiling.
import { BlobSASPermissions, generateBlobSASQueryParameters } from '@azure/storage-blob';
import { benchContainer, devCredential } from '../azure.mjs';
import { autocannonGet, expectBody } from '../load.mjs';
import { SMALL_BODY } from '../payload.mjs';

const CONTAINER = 'bench-sas';
const BLOB = 'small-1k';

export default {
  id: 'blob-sas-get',
  title: '1 KiB blob GET through a SAS URL (autocannon, 32 connections)',
  servers: ['mlspace', 'azurite', 'bare'],
  targets: [
    { row: 'get', of: 'mlspace', vs: 'azurite', atLeast: 10 },
    { row: 'get', of: 'mlspace', vs: 'bare', atLeast: 0.3 },
  ],

  async run(servers, settings, log) {
    const values = {};
    const p99Ms = {};
    for (const server of Object.values(servers)) {
      const url = await sasUrl(server);
      await expectBody(url, SMALL_BODY);
      log(`${server.name}: ${settings.seconds} s of GETs after ${settings.warmupSeconds} s warm-up`);
      const result = await autocannonGet(url, { connections: 32, seconds: settings.seconds, warmupSeconds: settings.warmupSeconds });
      values[server.name] = result.perSecond;
      p99Ms[server.name] = result.p99Ms;
    }
    return [
      { id: 'get', label: '1 KiB blob GET via SAS, 32 connections', unit: 'req/s', values },
      { id: 'get-p99', label: '1 KiB blob GET via SAS, p99 latency', unit: 'ms', values: p99Ms },
    ];
  },
};

/** The blob's SAS URL, after uploading it (the bare server accepts the upload and ignores the SAS). */
async function sasUrl(server) {
  const blob = (await benchContainer(server, CONTAINER)).getBlockBlobClient(BLOB);
  await blob.upload(SMALL_BODY, SMALL_BODY.length);
  return `${blob.url}?${signature()}`;
}

function signature() {
  return generateBlobSASQueryParameters(
    { containerName: CONTAINER, blobName: BLOB, permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3_600_000) },
    devCredential,
  ).toString();
}
