import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from '../auth/authenticate.js';
import type { KeyRing } from '../auth/keyring.js';
import { NotModified } from '../http/conditions.js';
import { StorageError, errors, sendStorageError } from '../http/errors.js';
import { parseStorageUrl } from '../http/request-url.js';
import { writeHead } from '../http/respond.js';
import { blobErrors } from './blob-errors.js';
import { blobOperations, selectOperation } from './dispatch.js';
import type { BlobDeps, BlobRequest } from './deps.js';
import { checkBlobName, checkContainerName } from './names.js';

export interface Logger {
  error(fields: Record<string, unknown>, message: string): void;
}

/** The Blob service's request listener: parse, find keys, pick the operation, authorize, run it. */
export function blobRequestListener(deps: BlobDeps, keyring: KeyRing, logger: Logger) {
  const operations = blobOperations(keyring);

  async function handle(req: IncomingMessage, ctx: BlobRequest): Promise<void> {
    const url = parseStorageUrl(req.url ?? '/');
    ctx.account = url.account;
    ctx.container = url.container;
    ctx.path = url.path;
    ctx.rawPath = url.rawPath;
    ctx.query = url.query;
    if (!url.account) throw errors.invalidUri('the path must start with the storage account name, as in /devstoreaccount1/container/blob.');
    const keys = keyring.get(url.account);
    if (!keys) throw errors.accountNotFound(url.account);
    const operation = selectOperation(operations, ctx);
    if (url.container) checkContainerName(url.container);
    if (url.path) checkBlobName(url.path);
    ctx.auth = await authenticate(ctx, keys, operation.access, async (container, id) =>
      deps.repo.getContainer(url.account, container)?.signedIdentifiers.find((identifier) => identifier.id === id),
    );
    if (ctx.auth.kind === 'anonymous') checkPublicAccess(ctx, operation.publicRead);
    await operation.handler(ctx);
  }

  function checkPublicAccess(ctx: BlobRequest, needed: 'blob' | 'container' | undefined): void {
    const level = needed && ctx.container ? deps.repo.getContainer(ctx.account, ctx.container)?.publicAccess : undefined;
    if (!level || (needed === 'container' && level !== 'container')) throw blobErrors.publicAccessDenied();
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    const ctx = {
      req,
      res,
      requestId: randomUUID(),
      service: 'blob',
      protocol: 'http',
      deps,
      auth: { kind: 'anonymous' },
    } as BlobRequest;
    handle(req, ctx).catch((error: unknown) => {
      if (error instanceof NotModified) {
        writeHead(ctx, 304, {});
        res.end();
        return;
      }
      if (!(error instanceof StorageError)) {
        // Log the failure for operators; the client sees only a generic 500.
        logger.error({ requestId: ctx.requestId, method: req.method, err: error }, 'blob request failed');
        error = errors.internal();
      }
      // A body we did not read may be huge: answer, then close rather than drain it.
      if (!req.complete && !res.headersSent) res.setHeader('connection', 'close');
      sendStorageError(res, error as StorageError, ctx.requestId);
    });
  };
}
