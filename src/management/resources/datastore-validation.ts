import { checkDatastore, type DatastoreCredential } from '../../keys/credential-probes.js';
import type { ManagementDeps } from '../deps.js';
import { ArmError } from '../http/errors.js';

/**
 * Checks a datastore's credential the way a client would use it: against the
 * data plane. An account key signs a short-lived SAS and a SAS is used as given,
 * to list one entry of the container (Blob service) or share (File service), and
 * a service principal's secret gets a token that must do the same; a refusal (a
 * regenerated key, a disabled shared key, a reset secret, a missing role,
 * container or share) becomes a 400 naming the cause.
 */
export async function validateDatastore(deps: ManagementDeps, datastore: DatastoreCredential): Promise<void> {
  const why = await checkDatastore(deps, datastore);
  if (why !== undefined) {
    throw new ArmError(
      400,
      'DatastoreValidationFailed',
      `The credentials of datastore '${datastore.name}' were refused: ${why} ` +
        (datastore.credentialsType === 'ServicePrincipal'
          ? 'Register it with the principal\'s current secret once it has a data role there, or pass skipValidation=true.'
          : `Register it with a current key of account '${datastore.accountName}' (listKeys), or pass skipValidation=true.`),
    );
  }
}
