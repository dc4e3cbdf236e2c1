// 1 KiB GET through a read-only SAS URL: the hot path of serving small objects
// (auth by signature, metadata lookup, bytes), against the bare node:http ceiling.
import { BlobSASPermissions, generateBlobSASQueryParameters } from '@azure/storage-blob';
import { benchContainer, devCredential } from '../azure.mjs';
import { measureSasGets } from '../load.mjs';
import { SMALL_BODY } from '../payload.mjs';

const CONTAINER = 'bench-sas';
const BLOB = 'small-1k';

export default {
  id: 'blob-sas-get',
  title: '1 KiB blob GET through a SAS URL (autocannon, 32 connections)',
  servers: ['mlspace', 'mlspace-pg', 'azurite', 'bare'],
  targets: [
    { row: 'get', of: 'mlspace', vs: 'azurite', atLeast: 10 },
    { row: 'get', of: 'mlspace', vs: 'bare', atLeast: 0.3 },
    { row: 'get', of: 'mlspace-pg', vs: 'mlspace', atLeast: 0.8 },
  ],

  run(servers, settings, log) {
    return measureSasGets(servers, settings, log, { sasUrl, body: SMALL_BODY, label: '1 KiB blob GET via SAS' });
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
