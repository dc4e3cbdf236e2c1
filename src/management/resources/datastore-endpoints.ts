import type { DatastoreType } from '../../db/datastores.js';
import type { ManagementDeps } from '../deps.js';

/**
 * Azure's datastore `endpoint` is the storage DNS suffix (core.windows.net) and
 * a client builds `{protocol}://{account}.blob.{endpoint}`. This server is
 * addressed path-style, like Azurite, so the default `endpoint` is the service's
 * host:port and a client builds `{protocol}://{endpoint}/{account}`.
 */
export function defaultEndpoint(deps: ManagementDeps, type: DatastoreType): { endpoint: string; protocol: string } {
  const base = type === 'AzureBlob' ? deps.blob.endpoint : (deps.file.endpoint);
  const url = new URL(base);
  return { endpoint: url.host, protocol: url.protocol.replace(/:$/, '') };
}
