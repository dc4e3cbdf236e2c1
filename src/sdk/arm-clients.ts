import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { ResourceManagementClient } from '@azure/arm-resources';
import { StorageManagementClient } from '@azure/arm-storage';
import { ArmActions } from './arm-actions.js';
import type { Connection } from './connection.js';

/** The official ARM clients for one subscription, as the SDK and the CLI use them. */
export interface ArmClients {
  subscriptionId: string;
  resources: ResourceManagementClient;
  storage: StorageManagementClient;
  ml: AzureMachineLearningWorkspaces;
  /** The operations those clients do not wrap: mlspace's key consumers and rotation, the activity log. */
  actions: ArmActions;
  /** What they were built from: the caller's identity also reaches datastores that hold no credential. */
  connection: Connection;
}

export function armClients(connection: Connection, subscriptionId: string): ArmClients {
  const options = { endpoint: connection.endpoint, ...connection.clientOptions };
  return {
    subscriptionId,
    resources: new ResourceManagementClient(connection.credential, subscriptionId, options),
    storage: new StorageManagementClient(connection.credential, subscriptionId, options),
    ml: new AzureMachineLearningWorkspaces(connection.credential, subscriptionId, options),
    actions: new ArmActions(connection.credential, connection.endpoint, connection.caFile),
    connection,
  };
}

/** The resource group and name in an ARM id (`/subscriptions/…/resourceGroups/{group}/providers/…/{name}`). */
export function parseResourceId(id: string): { resourceGroup: string; name: string } | undefined {
  const match = /\/resourceGroups\/([^/]+)\/providers\/.+\/([^/]+)$/i.exec(id);
  return match ? { resourceGroup: match[1]!, name: match[2]! } : undefined;
}
