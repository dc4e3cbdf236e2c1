import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerAfterUnreadBody } from '../storage/http/body-limits.js';
import { isDiskFull } from '../storage/http/disk-full.js';
import { activityLogRoutes } from './activity/routes.js';
import type { ManagementDeps } from './deps.js';
import type { ArmRequest, ArmResult } from './http/context.js';
import { ArmError, armErrors } from './http/errors.js';
import { sameName } from './http/names.js';
import { sendArmError, sendJson } from './http/respond.js';
import type { ArmRoute } from './http/route.js';
import { Router } from './http/router.js';
import { authenticateBearer, authorize } from './identity/authenticate.js';
import { loadPrincipal, type Principal } from './identity/principal.js';
import { identityRoutes } from './identity/routes.js';
import { roleRoutes } from './identity/role-routes.js';
import { datastoreRoutes } from './resources/datastores.js';
import { blobServiceRoutes } from './resources/blob-services.js';
import { bulkRotationRoutes } from './resources/bulk-rotation.js';
import { assetRoutes } from './resources/assets.js';
import { jobRoutes } from './resources/jobs.js';
import { resourceGroupRoutes } from './resources/resource-groups.js';
import { storageAccountRoutes } from './resources/storage-accounts.js';
import { storageKeyRoutes } from './resources/storage-keys.js';
import { storageRotationRoutes } from './resources/storage-rotation.js';
import { keylessMigrationRoutes } from './resources/keyless-migration.js';
import { storageSasRoutes } from './resources/storage-sas.js';
import { subscriptionRoutes } from './resources/subscriptions.js';
import { workspaceRoutes } from './resources/workspaces.js';
import { consoleRoutes, requireCsrf, sessionOf } from './console/routes.js';
import { serveConsole } from './console/static.js';

export function managementRoutes(deps: ManagementDeps): ArmRoute[] {
  return [
    ...identityRoutes(deps),
    ...roleRoutes(deps),
    ...subscriptionRoutes(deps),
    ...resourceGroupRoutes(deps),
    ...storageAccountRoutes(deps),
    ...blobServiceRoutes(deps),
    ...storageKeyRoutes(deps),
    ...storageSasRoutes(deps),
    ...storageRotationRoutes(deps),
    ...keylessMigrationRoutes(deps),
    ...bulkRotationRoutes(deps),
    ...workspaceRoutes(deps),
    ...datastoreRoutes(deps),
    ...assetRoutes(deps),
    ...jobRoutes(deps),
    ...activityLogRoutes(deps),
    ...consoleRoutes(deps),
  ];
}

/** The resource an operation acts on: the route's pattern filled in, without a trailing action name. */
function operationResourceId(route: ArmRoute, ctx: ArmRequest): string {
  const filled = route.pattern.replace(/\{\*?(\w+)\}/g, (_, name: string) => ctx.params[name] ?? '');
  return route.activity?.endsWith('/action') ? filled.slice(0, filled.lastIndexOf('/')) : filled;
}

/**
 * Runs an authorized call of a route the activity log records, and records
 * it: Succeeded with what the handler added, or Failed with the error's code
 * and message (which, like every ARM error message, names no secret).
 */
async function recorded(deps: ManagementDeps, route: ArmRoute, ctx: ArmRequest, run: () => ArmResult | Promise<ArmResult>): Promise<ArmResult> {
  if (!route.activity || !ctx.principal) return run();
  const event = {
    operation: route.activity,
    resourceId: operationResourceId(route, ctx),
    resourceGroup: ctx.params.resourceGroupName,
    caller: ctx.principal,
    correlationId: (ctx.req.headers['x-ms-correlation-request-id'] as string | undefined) ?? ctx.requestId,
  };
  try {
    const result = await run();
    if (!ctx.activity?.ownEvents) await deps.activity.record({ ...event, status: 'Succeeded', properties: { statusCode: String(result.status), ...ctx.activity?.properties } });
    return result;
  } catch (error) {
    const armError = error instanceof ArmError ? error : armErrors.internal(error);
    // A body that is not JSON is quoted back in the parser's message; Readers see this log, so it keeps only the code.
    const message = armError.code === 'InvalidRequestContent' ? undefined : armError.message;
    await deps.activity.record({ ...event, status: 'Failed', properties: { statusCode: String(armError.status), code: armError.code, message } });
    throw error;
  }
}

/**
 * A request from the web console: no Authorization header, and the session
 * cookie instead. It acts as the signed-in principal, with its current role;
 * what changes something must also carry the session's CSRF token.
 */
async function consolePrincipal(deps: ManagementDeps, ctx: ArmRequest): Promise<Principal | undefined> {
  if (ctx.req.headers.authorization !== undefined) return undefined;
  const found = sessionOf(deps.consoleSessions, ctx.req);
  if (!found) return undefined;
  if (ctx.req.method !== 'GET' && ctx.req.method !== 'HEAD') requireCsrf(found.session, ctx.req);
  return loadPrincipal(deps.directory, found.session.clientId);
}

/** The scope a route's action is checked at: its path, or the subscription for the tenant-level routes (this server is one subscription). */
function authorizationScope(deps: ManagementDeps, path: string): string {
  return /^\/subscriptions\//i.test(path) ? path : `/subscriptions/${deps.subscriptionId}`;
}

/**
 * The management endpoint's request listener: route, authenticate the bearer
 * token, check api-version and subscription, authorize the route's action for
 * the caller's role, run the handler, answer JSON.
 */
export function managementRequestListener(deps: ManagementDeps) {
  const router = new Router(managementRoutes(deps));

  async function handle(ctx: ArmRequest): Promise<void> {
    const { route, params } = router.match(ctx.req.method ?? 'GET', ctx.path);
    ctx.params = params;
    if (route.action !== undefined) {
      ctx.principal = (await consolePrincipal(deps, ctx)) ?? (await authenticateBearer(ctx.req, deps.tokens, deps.directory, `${deps.armEndpoint}/${deps.tenantId}`));
      if (!ctx.query.get('api-version')) throw armErrors.missingApiVersion();
      if (params.subscriptionId !== undefined && !sameName(params.subscriptionId, deps.subscriptionId)) {
        throw armErrors.subscriptionNotFound(params.subscriptionId);
      }
    }
    const result = await recorded(deps, route, ctx, () => {
      if (ctx.principal) authorize(ctx.principal, route.action!, authorizationScope(deps, ctx.path));
      return route.handler(ctx);
    });
    if (ctx.req.method !== 'GET' && ctx.req.method !== 'HEAD') await deps.durable();
    sendJson(ctx.req, ctx.res, ctx.requestId, result.status, result.body, result.headers);
    deps.logger.debug({ requestId: ctx.requestId, method: ctx.req.method, route: route.pattern, status: result.status, clientId: ctx.principal?.clientId }, 'management request');
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    // arm-authorization puts its scope after a '/' of its own ('//subscriptions/...'), which a URL would read as a host.
    const url = new URL((req.url ?? '/').replace(/^\/{2,}/, '/'), 'https://management.invalid');
    if (serveConsole(req, res, url.pathname, deps.dataPlaneHttpsPorts)) return;
    const ctx: ArmRequest = { req, res, requestId: randomUUID(), path: url.pathname, query: url.searchParams, params: {} };
    handle(ctx).catch((error: unknown) => {
      if (!(error instanceof ArmError)) {
        // Operators get the failure in the log; the client gets a generic 500.
        deps.logger.error({ requestId: ctx.requestId, method: req.method, err: error }, `management request failed${isDiskFull(error) ? ': the disk is full' : ''}`);
        error = armErrors.internal(error);
      }
      const armError = error as ArmError;
      if (armError.status >= 400 && armError.status < 500) {
        deps.logger.debug({ requestId: ctx.requestId, method: req.method, status: armError.status, code: armError.code }, 'management request refused');
      }
      if (res.headersSent) sendArmError(req, res, ctx.requestId, armError);
      else answerAfterUnreadBody(req, res, () => sendArmError(req, res, ctx.requestId, armError));
    });
  };
}
