// The scenario registry. A scenario is { id, title, servers, targets, run }:
//   servers  names of the servers it measures (see SERVER_LABELS in ../servers.mjs);
//            run receives them started, in this order.
//   run(servers, settings, log) resolves to rows: [{ id, label, unit, values: { [server]: number } }].
//   targets  [{ row, of, ... }] on values[of] of that row, one of:
//              vs, atLeast   values[of] / values[vs] must be ≥ atLeast
//              vs            that ratio is shown, not judged (informational)
//              vsRow, atLeast   values[of] / (row vsRow).values[of]: two rows of one server (vsRow alone: shown)
//              atMost        values[of] must be ≤ atMost
//              below         values[of] must be < below
import blobAppend from './blob-append.mjs';
import blobBearerGet from './blob-bearer-get.mjs';
import blobLease from './blob-lease.mjs';
import blobPage from './blob-page.mjs';
import blobSasGet from './blob-sas-get.mjs';
import blobSmallOps from './blob-small-ops.mjs';
import blobTransfer from './blob-transfer.mjs';
import cliLatency from './cli-latency.mjs';
import fileSasGet from './file-sas-get.mjs';
import fileTransfer from './file-transfer.mjs';
import mlJobs from './ml-jobs.mjs';
import rotation from './rotation.mjs';
import scaleOut from './scale-out.mjs';

export const scenarios = [blobSasGet, blobBearerGet, fileSasGet, blobSmallOps, blobLease, blobAppend, blobPage, blobTransfer, fileTransfer, rotation, scaleOut, cliLatency, mlJobs];
