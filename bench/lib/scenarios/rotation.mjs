// Key rotation, measured by ../../rotation.mjs: zero failed requests while the
// keys rotate under load, then listConsumers and a full rotation with thousands
// of consumers, on SQLite and on PostgreSQL. It starts its own mlspace servers on
// fresh data directories (the scale part seeds the metadata store while its
// server is stopped), so it takes none of the shared ones.
import { runRotationBench, scaleBench } from '../../rotation.mjs';
import { createBenchDatabase } from '../postgres.mjs';

export default {
  id: 'rotation',
  title: 'Key rotation under load and at scale (bench/rotation.mjs, on its own mlspace servers)',
  servers: [],
  targets: [
    { row: 'failed', of: 'mlspace', atMost: 0 },
    { row: 'list-consumers', of: 'mlspace', below: 200 },
    { row: 'list-consumers', of: 'mlspace-pg', below: 200 },
    { row: 'rotation', of: 'mlspace', below: 10 },
  ],

  async run(servers, settings, log) {
    const { workspaces, datastores } = settings.rotationScale;
    log(`under load, then ${workspaces} workspaces and ${datastores} datastores`);
    const { load, scale } = await runRotationBench({ load: true, scale: settings.rotationScale });
    log('the same scale with the metadata in PostgreSQL');
    const database = await createBenchDatabase();
    const scalePg = await scaleBench({ ...settings.rotationScale, database: database.url }).finally(() => database.drop());
    // A rotation that failed (and rolled back) proves nothing about the requests that went on meanwhile.
    const failed = [...load.rotations, scale.rotation, scalePg.rotation].filter((rotation) => rotation.status !== 'Succeeded');
    if (failed.length > 0) throw new Error(`${failed.length} rotation(s) did not succeed: ${failed.map((r) => `${r.status} ${JSON.stringify(r.error)}`).join('; ')}`);
    const mlspace = (value) => ({ mlspace: value });
    const consumers = scale.consumers.toLocaleString('en-US');
    return [
      { id: 'load', label: `Requests while the keys rotate ${load.rotations.length} times`, unit: 'req/s', values: mlspace(load.rps) },
      { id: 'failed', label: 'Failed requests under rotation (after one credential re-read)', unit: 'requests', values: mlspace(load.failed) },
      { id: 'rereads', label: '403s absorbed by re-reading the credential', unit: 'requests', values: mlspace(load.rereads) },
      { id: 'list-consumers', label: `listConsumers, ${consumers} consumers, median of 10`, unit: 'ms', values: { mlspace: scale.listConsumersMs.median, 'mlspace-pg': scalePg.listConsumersMs.median } },
      { id: 'rotation', label: `Full rotation, ${consumers} consumers (server side)`, unit: 's', values: { mlspace: scale.rotation.serverMs / 1000, 'mlspace-pg': scalePg.rotation.serverMs / 1000 } },
    ];
  },
};
