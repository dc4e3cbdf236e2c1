// 4 KiB Append Block to one append blob through the official client, 16 in
// flight: a log many writers share (a new one each 45,000 blocks, under Azure's
// limit of 50,000). Every append lands whole at one offset, so
// the server serializes them. The bare server stores nothing and answers every
// PUT with 201: the ceiling the client itself allows.
import { benchContainer } from '../azure.mjs';
import { interleavedLoopRates } from '../load.mjs';

const CONCURRENCY = 16;
const BLOCK = Buffer.alloc(4 * 1024, 'a');
/** Appends to one blob before the loops move to a new one: an append blob takes at most 50,000 blocks, and 16 more may be in flight. */
const BLOCKS_PER_BLOB = 45_000;

/** Append blobs of a container, the loops appending to the newest: one blob until it nears Azure's block limit. */
function appendLog(container) {
  const blobs = [];
  let sent = 0;
  let rolling;
  async function roll() {
    const blob = container.getAppendBlobClient(`shared-${blobs.length}.log`);
    await blob.create();
    blobs.push(blob);
    sent = 0;
  }
  return {
    blobs,
    roll,
    async append() {
      if (sent >= BLOCKS_PER_BLOB) await (rolling ??= roll().finally(() => (rolling = undefined)));
      sent++;
      await blobs[blobs.length - 1].appendBlock(BLOCK, BLOCK.length);
    },
  };
}

export default {
  id: 'blob-append',
  title: `4 KiB Append Block to one blob with @azure/storage-blob (${CONCURRENCY} parallel loops)`,
  servers: ['mlspace', 'azurite', 'bare'],
  // The client and each server on a core of their own (cores.mjs).
  pinned: true,
  targets: [
    { row: 'appends', of: 'mlspace', vs: 'azurite', atLeast: 3 },
    { row: 'appends', of: 'mlspace', vs: 'bare' },
    { row: 'appends', of: 'bare', vs: 'azurite' },
  ],

  async run(servers, settings, log) {
    const ops = {};
    const logs = {};
    for (const server of Object.values(servers)) {
      const appends = appendLog(await benchContainer(server, 'bench-append'));
      await appends.roll();
      logs[server.name] = appends;
      ops[server.name] = () => appends.append();
    }
    log(`${settings.seconds} s of appends on each server, in rounds taken in turn, after ${settings.warmupSeconds} s warm-up each`);
    const appends = await interleavedLoopRates(ops, { concurrency: CONCURRENCY, seconds: settings.seconds, warmupSeconds: settings.warmupSeconds });
    for (const server of Object.values(servers).filter((s) => s.stores)) {
      for (const blob of logs[server.name].blobs) {
        const properties = await blob.getProperties();
        if (properties.contentLength !== properties.blobCommittedBlockCount * BLOCK.length) {
          throw new Error(`${server.name}: ${properties.blobCommittedBlockCount} appends of 4 KiB but ${properties.contentLength} bytes in ${blob.name}`);
        }
      }
    }
    return [{ id: 'appends', label: '4 KiB Append Block to one blob, official client, concurrency 16', unit: 'ops/s', values: appends }];
  },
};
