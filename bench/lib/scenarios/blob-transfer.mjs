// Large-object throughput with the official client's parallel transfers: the
// way datasets and checkpoints move. Upload and download are timed end to end.
import { randomBytes } from 'node:crypto';
import { benchContainer } from '../azure.mjs';
import { median, timed } from '../load.mjs';

const MiB = 1024 * 1024;
// blockSize 8 MiB, 4 requests in flight, both ways.
const TRANSFER = { blockSize: 8 * MiB, concurrency: 4 };
// One transfer lasts a second or two, so a burst of other activity would decide
// a single sample: report the median of a few.
const ROUNDS = 3;

export default {
  id: 'blob-transfer',
  title: 'Large blob upload (uploadData) and download (downloadToBuffer), 8 MiB blocks, concurrency 4',
  servers: ['mlspace', 'azurite', 'bare'],
  targets: [
    { row: 'upload', of: 'mlspace', vs: 'azurite', atLeast: 3 },
    { row: 'download', of: 'mlspace', vs: 'azurite', atLeast: 3 },
  ],

  async run(servers, settings, log) {
    // Random, so no server can profit from compressible or repeated content.
    const data = randomBytes(settings.transferBytes);
    const size = `${settings.transferBytes / MiB} MiB`;
    const upload = {};
    const download = {};
    for (const server of Object.values(servers)) {
      // The bare server reads the size it is to serve from the name.
      const blob = (await benchContainer(server, 'bench-large')).getBlockBlobClient(`large-${data.length}`);
      log(`${server.name}: upload and download ${size}, median of ${ROUNDS}`);
      const up = [];
      const down = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Without maxSingleShotSize the client would send 256 MiB as one Put Blob, not in blocks.
        up.push((await timed(() => blob.uploadData(data, { ...TRANSFER, maxSingleShotSize: TRANSFER.blockSize }))).seconds);
        const { seconds, value } = await timed(() => blob.downloadToBuffer(0, undefined, TRANSFER));
        const intact = server.stores ? value.equals(data) : value.length === data.length;
        if (!intact) throw new Error(`${server.name} returned different bytes than were uploaded`);
        down.push(seconds);
      }
      upload[server.name] = data.length / 1e6 / median(up);
      download[server.name] = data.length / 1e6 / median(down);
    }
    return [
      { id: 'upload', label: `${size} blob upload`, unit: 'MB/s', values: upload },
      { id: 'download', label: `${size} blob download`, unit: 'MB/s', values: download },
    ];
  },
};
