import type { Datastore as ArmDatastore, DatastoreCredentialsUnion } from '@azure/arm-machinelearning';
import type { DatastoreType } from './datastore-types.js';
import { MlspaceError } from './errors.js';

/** A datastore registration in SDK terms; the CLI's YAML files map onto it too. */
export interface DatastoreRegistration {
  type: DatastoreType;
  name: string;
  accountName: string;
  /** The container (AzureBlob) or file share (AzureFile). */
  container: string;
  /** At most one of accountKey, sasToken and servicePrincipal; none registers a datastore without credentials (identity access). */
  accountKey?: string;
  sasToken?: string;
  servicePrincipal?: { tenantId: string; clientId: string; clientSecret: string };
  /** Storage DNS suffix (`core.windows.net`) or, for this server, `host:port`; the server's own by default. */
  endpoint?: string;
  /** `https` (default in Azure), `http`, `wasbs` or `wasb`. */
  protocol?: string;
  description?: string;
  tags?: Record<string, string>;
}

function credentials(registration: DatastoreRegistration): DatastoreCredentialsUnion {
  if ([registration.accountKey, registration.sasToken, registration.servicePrincipal].filter((given) => given !== undefined).length > 1) {
    throw new MlspaceError(`Datastore '${registration.name}': give one of an account key, a SAS token or a service principal, not several.`, 'InvalidArgument');
  }
  const principal = registration.servicePrincipal;
  if (principal !== undefined) {
    return { credentialsType: 'ServicePrincipal', tenantId: principal.tenantId, clientId: principal.clientId, secrets: { secretsType: 'ServicePrincipal', clientSecret: principal.clientSecret } };
  }
  if (registration.accountKey !== undefined) return { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key: registration.accountKey } };
  if (registration.sasToken !== undefined) return { credentialsType: 'Sas', secrets: { secretsType: 'Sas', sasToken: registration.sasToken.replace(/^\?/, '') } };
  return { credentialsType: 'None' };
}

/** The ARM body of a registration (the v2 API shape). */
export function datastoreResource(registration: DatastoreRegistration): ArmDatastore {
  const common = {
    accountName: registration.accountName,
    credentials: credentials(registration),
    endpoint: registration.endpoint,
    protocol: registration.protocol,
    description: registration.description,
    tags: registration.tags,
  };
  return {
    properties:
      registration.type === 'AzureBlob'
        ? { ...common, datastoreType: 'AzureBlob', containerName: registration.container }
        : { ...common, datastoreType: 'AzureFile', fileShareName: registration.container },
  };
}
