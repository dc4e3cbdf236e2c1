import type { BearerAuth } from '../auth/bearer.js';
import type { KeyRing } from '../auth/keyring.js';
import { corsRules } from '../http/cors.js';
import { storageRequestListener, type Logger } from '../http/listener.js';
import type { UploadGate } from '../http/body-limits.js';
import type { FileDeps, FileRequest } from './deps.js';
import { fileOperations, selectOperation, type FileOperation } from './dispatch.js';
import { fileErrors } from './file-errors.js';
import { checkFilePath, checkShareName } from './names.js';

/** The File service's request listener: the shared pipeline with File's operations and names; no anonymous access. */
export function fileRequestListener(deps: FileDeps, keyring: KeyRing, bearer: BearerAuth, logger: Logger, uploads: UploadGate) {
  const operations = fileOperations(keyring);
  return storageRequestListener<FileRequest, FileOperation>(
    {
      service: 'file',
      extras: { deps },
      selectOperation: (ctx) => selectOperation(operations, ctx),
      checkNames(ctx) {
        if (ctx.container) checkShareName(ctx.container);
        if (ctx.path) checkFilePath(ctx.path);
      },
      lookupPolicy: (account, share, id) => deps.repo.getShare(account, share).then((found) => found?.signedIdentifiers.find((identifier) => identifier.id === id)),
      async checkAnonymous() {
        throw fileErrors.noAuthentication();
      },
      corsRules: (account) => corsRules(deps.serviceProperties, account, 'file'),
      consoleOrigin: deps.consoleOrigin,
    },
    keyring,
    bearer,
    logger,
    deps.durable,
    uploads,
  );
}
