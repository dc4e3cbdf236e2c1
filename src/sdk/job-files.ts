import path from 'node:path';
import { Datastore } from './datastore.js';
import { MlspaceError } from './errors.js';
import { downloadPlanned, localPathUnder } from './transfer.js';
import type { TransferResult } from './datastore-types.js';
import type { Workspace } from './workspace.js';

/** `azureml://datastores/{d}/paths/{p}` or Azure ML's `azureml://datastores/{d}/ExperimentRun/…` (a job's default output). */
const OUTPUT_URI = /^azureml:\/\/(?:subscriptions\/[^/]+\/resource[gG]roups\/[^/]+\/workspaces\/[^/]+\/)?datastores\/([^/]+)\/(?:paths\/)?(.*)$/;

/** The datastore and path of a job output's URI. */
export function outputLocation(uri: string): { datastore: string; path: string } {
  const match = OUTPUT_URI.exec(uri);
  if (!match) throw new MlspaceError(`The job output at '${uri}' is not in a datastore this SDK can read.`, 'InvalidArgument');
  return { datastore: match[1]!, path: match[2]! };
}

/** Where a job's log is: `user_logs/std_log.txt` under its default output. */
function jobLogLocation(defaultOutputUri: string): { datastore: string; path: string } {
  const { datastore, path: folder } = outputLocation(defaultOutputUri);
  return { datastore, path: `${folder.replace(/\/+$/, '')}/user_logs/std_log.txt` };
}

/**
 * A job's log as it is now, from byte `offset` on, read through the datastore
 * that holds it with that datastore's own credential; undefined while there is
 * none yet.
 */
export async function readJobLog(workspace: Workspace, defaultOutputUri: string, offset = 0): Promise<Buffer | undefined> {
  const where = jobLogLocation(defaultOutputUri);
  const datastore = await Datastore.get(workspace, where.datastore);
  // One read, a missing log answering 404, rather than asking first: a stream polls this every second.
  return datastore.withStorage(await datastore.ownAccess(), (target) =>
    target.read(where.path, offset).catch((error: { statusCode?: number }) => {
      if (error.statusCode === 404) return undefined;
      throw error;
    }),
  );
}

/**
 * Downloads a job output's files into `into` (as `az ml job download` lays
 * them out: `artifacts/` for the default output, `named-outputs/<name>/` for
 * the others), through the datastore holding them.
 */
export async function downloadJobOutput(workspace: Workspace, uri: string, into: string, overwrite: boolean): Promise<TransferResult> {
  const { datastore: name, path: prefix } = outputLocation(uri);
  const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const datastore = await Datastore.get(workspace, name);
  return datastore.withStorage(await datastore.ownAccess(), async (target) => {
    const planned = [];
    for await (const file of target.list(folder)) planned.push({ localPath: localPathUnder(into, file.path.slice(folder.length)), remotePath: file.path, size: file.size });
    return downloadPlanned(target, planned, { overwrite });
  });
}

/** `artifacts` for the default output, `named-outputs/<name>` for the others: az ml's download layout. */
export function outputDirectory(root: string, outputName: string): string {
  return outputName === 'default' ? path.join(root, 'artifacts') : path.join(root, 'named-outputs', outputName);
}
