import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { startTestServer, type TestServer } from './server.js';

export interface TestCluster {
  database: TestDatabase;
  dataDir: string;
  nodes: TestServer[];
  /** Starts node `index` (again, after a stop or a kill), on the shared database and data directory. */
  start(index: number, env?: Record<string, string>): Promise<TestServer>;
  close(): Promise<void>;
}

/**
 * `count` mlspace nodes on one PostgreSQL database of their own and one data
 * directory, started one after the other as an operator would (the first
 * creates the schema and the data directory's keys), or all at once (`atOnce`),
 * each writing its own endpoints file; `args` go to every node's `mlspace up`.
 */
export async function startCluster(count: number, options: { leaseSeconds: number; atOnce?: boolean; args?: string[]; env?: Record<string, string> }): Promise<TestCluster> {
  const database = await createTestDatabase('mlspace_nodes');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-nodes-'));
  const nodes: TestServer[] = [];
  const start = async (index: number, env: Record<string, string> = {}) => {
    nodes[index] = await startTestServer({
      dataDir,
      endpointsFile: path.join(dataDir, `endpoints-${index}.json`),
      args: ['--database', database.url, '--node-lease', String(options.leaseSeconds), ...(options.args ?? [])],
      env: { ...options.env, ...env },
    });
    return nodes[index]!;
  };
  if (options.atOnce) await Promise.all(Array.from({ length: count }, (_, index) => start(index)));
  else for (let index = 0; index < count; index++) await start(index);
  return {
    database,
    dataDir,
    nodes,
    start,
    async close() {
      await Promise.all(nodes.map((node) => node.stop('SIGKILL')));
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
