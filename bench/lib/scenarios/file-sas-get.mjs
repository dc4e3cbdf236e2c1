// 1 KiB File service GET through a read-only file SAS URL, as blob-sas-get does
// for blobs. Azurite has no File service: measured against the bare ceiling only.
import { FileSASPermissions } from '@azure/storage-file-share';
import { benchShare } from '../azure.mjs';
import { measureSasGets } from '../load.mjs';
import { SMALL_BODY } from '../payload.mjs';

export default {
  id: 'file-sas-get',
  title: '1 KiB file GET through a file SAS URL (autocannon, 32 connections)',
  servers: ['mlspace', 'bare'],
  // The issue sets no File service target: the share of the ceiling is shown, not judged.
  targets: [{ row: 'get', of: 'mlspace', vs: 'bare' }],

  run(servers, settings, log) {
    return measureSasGets(servers, settings, log, { sasUrl, body: SMALL_BODY, label: '1 KiB file GET via SAS' });
  },
};

/** The file's SAS URL, after uploading it (the bare server accepts the upload and ignores the SAS). */
async function sasUrl(server) {
  const file = (await benchShare(server, 'bench-sas')).rootDirectoryClient.getFileClient('small-1k');
  await file.uploadData(SMALL_BODY);
  return file.generateSasUrl({ permissions: FileSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3_600_000) });
}
