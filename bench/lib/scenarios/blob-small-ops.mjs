// 1 KiB Put Blob and Get Blob with Shared Key through the official client, the
// way an application's small-object traffic reaches a server: client-side
// signing and pipeline overhead included, 16 requests in flight.
import { benchContainer } from '../azure.mjs';
import { loopRate } from '../load.mjs';
import { SMALL_BODY } from '../payload.mjs';

const CONCURRENCY = 16;

export default {
  id: 'blob-small-ops',
  title: `1 KiB Shared Key PUT and GET with @azure/storage-blob (${CONCURRENCY} parallel loops)`,
  servers: ['mlspace', 'mlspace-pg', 'azurite', 'bare'],
  targets: [
    { row: 'put', of: 'mlspace', vs: 'azurite', atLeast: 3 },
    { row: 'get', of: 'mlspace', vs: 'azurite', atLeast: 3 },
    { row: 'put', of: 'mlspace-pg', vs: 'mlspace', atLeast: 0.5 },
    { row: 'get', of: 'mlspace-pg', vs: 'mlspace', atLeast: 0.5 },
  ],

  async run(servers, settings, log) {
    const put = {};
    const get = {};
    const rate = (op) => loopRate(op, { concurrency: CONCURRENCY, seconds: settings.seconds, warmupSeconds: settings.warmupSeconds });
    for (const server of Object.values(servers)) {
      const container = await benchContainer(server, 'bench-small');
      log(`${server.name}: ${settings.seconds} s of PUTs, then of GETs, each after ${settings.warmupSeconds} s warm-up`);
      // Every PUT creates a new blob, as an application writing objects does, rather than overwriting a hot few.
      let sequence = 0;
      put[server.name] = await rate(() => container.getBlockBlobClient(`put-${sequence++}`).upload(SMALL_BODY, SMALL_BODY.length));
      // Each loop reads its own blob, written above.
      get[server.name] = await rate(async (loop) => {
        const response = await container.getBlockBlobClient(`put-${loop}`).download();
        const body = await readAll(response.readableStreamBody);
        if (!body.equals(SMALL_BODY)) throw new Error(`${server.name} returned ${body.length} bytes that are not the 1 KiB written`);
      });
    }
    return [
      { id: 'put', label: '1 KiB blob PUT (Shared Key, official client)', unit: 'ops/s', values: put },
      { id: 'get', label: '1 KiB blob GET (Shared Key, official client)', unit: 'ops/s', values: get },
    ];
  },
};

/** A response body, read to its end: a download is not done until its bytes are. */
async function readAll(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}
