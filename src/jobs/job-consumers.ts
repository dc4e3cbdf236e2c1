import type { JobRecord } from '../db/jobs.js';
import type { StorageAccountRecord } from '../db/records.js';
import type { ManagementDeps } from '../management/deps.js';

/** `azureml://…datastores/{name}/…`: the datastore a job's URI names. */
const DATASTORE_OF = /^azureml:\/\/(?:.*\/)?datastores\/([^/]+)\//;

/**
 * The jobs not yet ended that use a credential of the account, as
 * listConsumers shows them: the workspace's key copy (for the job's logs and
 * outputs) or a datastore's (for an input). A job holds none of them: it reads
 * each afresh for every transfer, and once more when one is refused after its
 * holder was moved, so a rotation moves it with the holders.
 */
export async function jobsUsing(deps: ManagementDeps, account: StorageAccountRecord): Promise<unknown[]> {
  const found = [];
  for (const job of await deps.jobs.unfinished()) {
    const workspace = await deps.workspaces.get(job.resourceGroup, job.workspaceName);
    if (!workspace) continue;
    const uses = workspace.storageAccount === account.name ? [`the key copy of workspace '${workspace.name}'`] : [];
    for (const name of datastoresOf(job)) {
      const datastore = await deps.datastores.get(workspace.id, name);
      if (datastore?.accountName === account.name && !datastore.system) uses.push(`datastore '${name}' (${datastore.credentialsType})`);
    }
    if (uses.length === 0) continue;
    found.push({
      id: `/subscriptions/${deps.subscriptionId}/resourceGroups/${workspace.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${workspace.name}/jobs/${job.name}`,
      kind: 'job',
      resourceGroup: workspace.resourceGroup,
      workspaceName: workspace.name,
      jobName: job.name,
      status: job.status,
      uses,
      matches: 'followsHolders',
    });
  }
  return found;
}

function datastoresOf(job: JobRecord): Set<string> {
  const uris = [...Object.values(job.inputs).map((input) => input.uri), ...Object.values(job.outputs).map((output) => output.uri)];
  return new Set(uris.map((uri) => (uri ? DATASTORE_OF.exec(uri)?.[1] : undefined)).filter((name): name is string => name !== undefined));
}
