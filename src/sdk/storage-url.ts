import { isIP } from 'node:net';
import type { DatastoreType } from './datastore-types.js';
import type { DataPlaneEndpoints } from './connection.js';

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

/**
 * Where a token may go for a service at `serviceUrl`: bearer tokens travel
 * only over HTTPS, so a plain-HTTP endpoint of a local mlspace server is
 * swapped for its HTTPS twin (endpoints.json); undefined when there is none.
 */
export function tokenServiceUrl(serviceUrl: string, dataPlane: DataPlaneEndpoints | undefined): string | undefined {
  if (serviceUrl.startsWith('https:')) return serviceUrl;
  for (const [plain, tls] of dataPlane ? [[dataPlane.blob, dataPlane.blobHttps], [dataPlane.file, dataPlane.fileHttps]] : []) {
    if (serviceUrl === plain || serviceUrl.startsWith(`${plain}/`)) return tls + serviceUrl.slice(plain!.length);
  }
  return undefined;
}
