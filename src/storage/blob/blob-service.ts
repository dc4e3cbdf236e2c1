import type { BearerAuth } from '../auth/bearer.js';
import type { KeyRing } from '../auth/keyring.js';
import { storageRequestListener, type Logger } from '../http/listener.js';
import type { UploadGate } from '../http/body-limits.js';
import { corsRules } from '../http/cors.js';
import { blobErrors } from './blob-errors.js';
import { blobOperations, selectOperation, type BlobOperation } from './dispatch.js';
import type { BlobDeps, BlobRequest } from './deps.js';
import { checkBlobName, checkContainerName } from './names.js';

/** The Blob service's request listener: the shared pipeline with Blob's operations, names and public access. */
export function blobRequestListener(deps: BlobDeps, keyring: KeyRing, bearer: BearerAuth, logger: Logger, uploads: UploadGate) {
  // Batches run their sub-requests through this very listener, which exists only once the operations do.
  const operations = blobOperations(keyring, () => listener);
  const listener = storageRequestListener<BlobRequest, BlobOperation>(
    {
      service: 'blob',
      extras: { deps },
      selectOperation: (ctx) => selectOperation(operations, ctx),
      checkNames(ctx) {
        if (ctx.container) checkContainerName(ctx.container);
        if (ctx.path) checkBlobName(ctx.path);
      },
      lookupPolicy: async (account, container, id) => (await deps.repo.getContainer(account, container))?.signedIdentifiers.find((identifier) => identifier.id === id),
      async checkAnonymous(ctx, operation) {
        const needed = operation.publicRead;
        const level = needed && ctx.container ? (await deps.repo.getContainer(ctx.account, ctx.container))?.publicAccess : undefined;
        if (!level || (needed === 'container' && level !== 'container')) throw blobErrors.publicAccessDenied();
      },
      corsRules: (account) => corsRules(deps.serviceProperties, account, 'blob'),
      consoleOrigin: deps.consoleOrigin,
    },
    keyring,
    bearer,
    logger,
    deps.durable,
    uploads,
  );
  return listener;
}
