// The scenario registry. A scenario is { id, title, servers, targets, run }:
//   servers  names of the servers it measures (see SERVER_LABELS in ../servers.mjs);
//            run receives them started, in this order.
//   run(servers, settings, log) resolves to rows: [{ id, label, unit, values: { [server]: number } }].
//   targets  [{ row, of, vs, atLeast }]: values[of] / values[vs] of that row must be ≥ atLeast.
// Add a scenario (a File service one, say) by writing a module like these and listing it here.
import blobSasGet from './blob-sas-get.mjs';
import blobSmallOps from './blob-small-ops.mjs';
import blobTransfer from './blob-transfer.mjs';

export const scenarios = [blobSasGet, blobSmallOps, blobTransfer];
