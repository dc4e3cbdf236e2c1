import { isIP } from 'node:net';
import type { DatastoreType } from './datastore-types.js';

/**
 * The service URL of a datastore's account. Azure's datastore `endpoint` is a
 * DNS suffix (`core.windows.net`) under which the account is a subdomain; a
 * host with a port, an IP address or localhost is a path-style endpoint (this
 * server, Azurite) where the account is the first path segment.
 */
export function datastoreServiceUrl(type: DatastoreType, accountName: string, endpoint: string, protocol: string): string {
  // wasb(s) are the Hadoop names of the same transports.
  const scheme = protocol === 'wasbs' ? 'https' : protocol === 'wasb' ? 'http' : protocol;
  const host = new URL(`${scheme}://${endpoint}`);
  const hostname = host.hostname.replace(/^\[|\]$/g, '');
  if (host.port !== '' || isIP(hostname) !== 0 || hostname === 'localhost') return `${scheme}://${host.host}/${accountName}`;
  return `${scheme}://${accountName}.${type === 'AzureBlob' ? 'blob' : 'file'}.${host.host}`;
}
