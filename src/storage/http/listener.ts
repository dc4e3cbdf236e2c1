import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from '../auth/authenticate.js';
import type { BearerAuth } from '../auth/bearer.js';
import type { KeyRing } from '../auth/keyring.js';
import type { AccessPolicy, AuthOutcome, OperationAccess } from '../auth/types.js';
import { NotModified } from './conditions.js';
import type { StorageRequest, StorageService } from './context.js';
import { StorageError, errors, sendStorageError } from './errors.js';
import { hostAccount, parseStorageUrl } from './request-url.js';
import { writeHead } from './respond.js';
import { isDiskFull } from './disk-full.js';
import { answerAfterUnreadBody, type UploadGate } from './body-limits.js';
import { addCorsHeaders, answerPreflight, CONSOLE_CORS_RULE, type ConsoleOrigin, type CorsRule } from './cors.js';

export interface Logger {
  error(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** A request that went through the pipeline: its credential has been verified. */
export interface AuthorizedRequest extends StorageRequest {
  auth: AuthOutcome;
}

export interface StorageOperation<C extends AuthorizedRequest> {
  name: string;
  access: OperationAccess;
  handler: (ctx: C) => Promise<void>;
}

/** What differs between the Blob and File services; everything else is the shared pipeline below. */
export interface StorageServiceDefinition<C extends AuthorizedRequest, O extends StorageOperation<C>> {
  service: StorageService;
  /** Fields the service's handlers need besides the request itself (their dependencies). */
  extras: Omit<C, keyof AuthorizedRequest>;
  /** Picks the operation from method, restype, comp and headers; throws when there is none. */
  selectOperation(ctx: C): O;
  /** Refuses container/share and path names the service does not allow. */
  checkNames(ctx: C): void;
  /** A stored access policy (`si` of a service SAS) of a container or share. */
  lookupPolicy(account: string, container: string, id: string): Promise<AccessPolicy | undefined>;
  /** Decides whether an unsigned request may run; throws when it may not. */
  checkAnonymous(ctx: C, operation: O): Promise<void>;
  /** The account's CORS rules for this service (its service properties); asked only when a request has an Origin. */
  corsRules(account: string): Promise<CorsRule[]>;
  /** The management port's web console, which may call every account. */
  consoleOrigin: ConsoleOrigin;
}

/**
 * A data-plane request listener: parse the path-style URL, find the account's
 * keys, pick the operation, check names, authenticate (a key, a SAS, a bearer
 * token or a user delegation SAS), run the handler (an upload only while the
 * server is under its bound of concurrent uploads). Errors
 * become Azure XML (or a bare 304 for reads the client has cached); anything
 * that is not a StorageError is logged and answered with a generic 500.
 */
export function storageRequestListener<C extends AuthorizedRequest, O extends StorageOperation<C>>(
  definition: StorageServiceDefinition<C, O>,
  keyring: KeyRing,
  bearer: BearerAuth,
  logger: Logger,
  durable: () => Promise<void>,
  uploads: UploadGate,
) {
  async function handle(req: IncomingMessage, ctx: C): Promise<void> {
    const url = parseStorageUrl(req.url ?? '/', hostAccount(req.headers.host, definition.service));
    ctx.account = url.account;
    ctx.container = url.container;
    ctx.path = url.path;
    ctx.rawPath = url.rawPath;
    ctx.query = url.query;
    if (!url.account) throw errors.invalidUri('the path must start with the storage account name, as in /devstoreaccount1/container/blob.');
    const keys = keyring.get(url.account);
    if (!keys) throw errors.accountNotFound(url.account);
    // Browsers send a preflight unsigned, and a request with Origin needs the CORS headers to read its answer.
    if (req.headers.origin !== undefined) {
      const rules = definition.consoleOrigin.matches(req) ? [CONSOLE_CORS_RULE] : await definition.corsRules(url.account);
      if (req.method === 'OPTIONS') return answerPreflight(ctx, rules);
      addCorsHeaders(req, ctx.res, rules);
    } else if (req.method === 'OPTIONS') return answerPreflight(ctx, []);
    const operation = definition.selectOperation(ctx);
    definition.checkNames(ctx);
    // A SAS naming a stored access policy (si) is the only credential that needs the store: read it first,
    // and keep the check itself synchronous, so the hot path pays no promise for a key or a plain SAS.
    const si = ctx.query.get('si');
    const policy = si !== null && url.container ? await definition.lookupPolicy(url.account, url.container, si) : undefined;
    const authorization = req.headers.authorization;
    // Credentials of the directory (a token, a user delegation SAS) need its roles: they are the ones that wait.
    if (authorization !== undefined && /^bearer(?: |$)/i.test(authorization)) ctx.auth = await bearer.authenticate(ctx, keys, operation.access, authorization);
    else if (authorization === undefined && ctx.query.has('skoid')) ctx.auth = await bearer.authenticateDelegatedSas(ctx, keys, operation.access);
    else ctx.auth = authenticate(ctx, keys, operation.access, (container, id) => (container === url.container && id === si ? policy : undefined));
    // A node that has gone a lease without confirming its keys with the database may still hold one regenerated meanwhile.
    if (ctx.auth.kind !== 'anonymous' && !keyring.current()) throw errors.keysBehind();
    // An unsigned request that may not run names, as Azure's do, where to get a token (the SDK's challenge flow reads it).
    if (ctx.auth.kind === 'anonymous') await definition.checkAnonymous(ctx, operation).catch((error: unknown) => Promise.reject(bearer.refuseAnonymous(ctx, error)));
    await operation.handler(ctx);
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    const ctx = {
      ...definition.extras,
      req,
      res,
      requestId: randomUUID(),
      service: definition.service,
      // A SAS signed for https only (spr=https) is good on the TLS ports alone.
      protocol: 'encrypted' in req.socket ? 'https' : 'http',
      durable,
      auth: { kind: 'anonymous' },
    } as C;
    const admitted = uploads.admit(req, res);
    (admitted ? handle(req, ctx) : Promise.reject(errors.serverBusy())).catch((error: unknown) => {
      // The client closed the connection mid-request: there is nobody to answer, and its leaving is no failure here.
      if (req.socket.destroyed) return;
      if (error instanceof NotModified) {
        writeHead(ctx, 304, {});
        res.end();
        return;
      }
      if (!(error instanceof StorageError)) {
        // Log the failure for operators; the client sees a 500 that says no more than whether the disk is full.
        logger.error({ requestId: ctx.requestId, method: req.method, err: error }, `${definition.service} request failed${isDiskFull(error) ? ': the disk is full' : ''}`);
        error = errors.internal(error);
      }
      if (res.headersSent) sendStorageError(res, error as StorageError, ctx.requestId);
      else answerAfterUnreadBody(req, res, () => sendStorageError(res, error as StorageError, ctx.requestId));
    });
  };
}
