// Lease acquire + release pairs through the official client, 16 loops, each on
// its own blob: the way a lock (Terraform's state lock, a leader election)
// uses leases. The bare server answers each lease action with the status and
// lease id the client expects, checking and storing nothing: the ceiling the
// client itself allows.
import { randomUUID } from 'node:crypto';
import { benchContainer } from '../azure.mjs';
import { interleavedLoopRates } from '../load.mjs';
import { SMALL_BODY } from '../payload.mjs';

const CONCURRENCY = 16;

export default {
  id: 'blob-lease',
  title: `Lease acquire + release pairs with @azure/storage-blob (${CONCURRENCY} parallel loops)`,
  servers: ['mlspace', 'azurite', 'bare'],
  // The client and each server on a core of their own (cores.mjs).
  pinned: true,
  targets: [
    { row: 'pairs', of: 'mlspace', vs: 'azurite', atLeast: 3 },
    { row: 'pairs', of: 'mlspace', vs: 'bare' },
    { row: 'pairs', of: 'bare', vs: 'azurite' },
  ],

  async run(servers, settings, log) {
    const ops = {};
    for (const server of Object.values(servers)) {
      const container = await benchContainer(server, 'bench-lease');
      const blobs = await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, loop) => {
          const blob = container.getBlockBlobClient(`lease-${loop}`);
          await blob.upload(SMALL_BODY, SMALL_BODY.length);
          return blob;
        }),
      );
      ops[server.name] = async (loop) => {
        const lease = blobs[loop].getBlobLeaseClient(randomUUID());
        await lease.acquireLease(-1);
        await lease.releaseLease();
      };
    }
    log(`${settings.seconds} s of acquire + release pairs on each server, in rounds taken in turn, after ${settings.warmupSeconds} s warm-up each`);
    const pairs = await interleavedLoopRates(ops, { concurrency: CONCURRENCY, seconds: settings.seconds, warmupSeconds: settings.warmupSeconds });
    return [{ id: 'pairs', label: 'Lease acquire + release pairs, official client, concurrency 16', unit: 'pairs/s', values: pairs }];
  },
};
