import fs from 'node:fs';
import path from 'node:path';
import { ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { trustCa, type TrustCaOptions } from '../client/trust-ca.js';
import { mlspaceHome } from '../server/config.js';
import { readEndpoints, type Endpoints } from '../server/endpoints.js';
import { MlspaceError } from './errors.js';

/**
 * How the SDK reaches a management endpoint. Leave everything out to use the
 * local server (`mlspace up`): its `$MLSPACE_HOME/data/endpoints.json`, its
 * admin client and its CA. Give a `credential` (any `TokenCredential`, e.g.
 * `ClientSecretCredential` or `DefaultAzureCredential`) to use another
 * identity or another server, Azure included.
 */
export interface ConnectionOptions {
  /** The identity to call with; the local server's admin client when left out. */
  credential?: TokenCredential;
  /**
   * The management (ARM) endpoint. With a `credential` it defaults to Azure's,
   * `https://management.azure.com`; without one, to the local server's.
   */
  endpoint?: string;
  /** A PEM CA certificate to trust for the management endpoint (a remote mlspace server's `caFile`). */
  caFile?: string;
  /** The mlspace home whose local server to use (default `$MLSPACE_HOME`, or `~/.mlspace`). */
  mlspaceHome?: string;
}

/** A resolved connection: what the ARM clients are built from. */
export interface Connection {
  credential: TokenCredential;
  endpoint: string;
  /** The local server's subscription, when the connection is to it. */
  defaultSubscriptionId?: string;
  /** Options for the ARM clients (and the credential) to trust a private CA. */
  clientOptions: Partial<TrustCaOptions>;
  /** That CA's certificate file, for requests made outside those clients (ArmActions, storage over HTTPS). */
  caFile?: string;
  /** The token authority of a mlspace server (its management endpoint); Azure's own when left out. */
  authorityHost?: string;
  /** A local mlspace server's data-plane endpoints, so that a token goes to the HTTPS twin of a plain-HTTP datastore endpoint. */
  dataPlane?: DataPlaneEndpoints;
}

export type DataPlaneEndpoints = Pick<Endpoints, 'blob' | 'file' | 'blobHttps' | 'fileHttps'>;

const AZURE_RESOURCE_MANAGER = 'https://management.azure.com';

export function resolveConnection(options: ConnectionOptions = {}): Connection {
  if (options.credential) {
    return {
      credential: options.credential,
      endpoint: options.endpoint ?? AZURE_RESOURCE_MANAGER,
      clientOptions: options.caFile ? trustCa(options.caFile) : {},
      caFile: options.caFile,
    };
  }
  return localServerConnection(options.mlspaceHome ?? mlspaceHome());
}

/** The local server as its admin client sees it, trusting its CA in-process (no NODE_EXTRA_CA_CERTS needed). */
export function localServerConnection(home: string): Connection {
  const dataDir = path.join(home, 'data');
  let endpoints;
  let admin: { tenantId: string; clientId: string; clientSecret: string };
  try {
    endpoints = readEndpoints(dataDir);
    admin = JSON.parse(fs.readFileSync(endpoints.adminClientFile, 'utf8'));
  } catch (error) {
    throw new MlspaceError(
      `Cannot reach the local mlspace server: ${error instanceof Error ? error.message : String(error)} Pass { credential, endpoint } to use another server.`,
      'LocalServerUnavailable',
      { cause: error },
    );
  }
  const trust = trustCa(endpoints.caFile);
  return {
    credential: new ClientSecretCredential(admin.tenantId, admin.clientId, admin.clientSecret, {
      authorityHost: endpoints.authority,
      // The local server is its own authority; there is no Azure instance metadata to discover.
      disableInstanceDiscovery: true,
      ...trust,
    }),
    endpoint: endpoints.arm,
    defaultSubscriptionId: endpoints.subscriptionId,
    clientOptions: trust,
    caFile: endpoints.caFile,
    authorityHost: endpoints.authority,
    dataPlane: endpoints,
  };
}
