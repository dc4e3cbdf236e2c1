import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ManagementDeps } from './deps.js';
import type { ArmRequest } from './http/context.js';
import { ArmError, armErrors } from './http/errors.js';
import { sameName } from './http/names.js';
import { sendArmError, sendJson } from './http/respond.js';
import type { ArmRoute } from './http/route.js';
import { Router } from './http/router.js';
import { authenticateBearer, authorize } from './identity/authenticate.js';
import { identityRoutes } from './identity/routes.js';
import { datastoreRoutes } from './resources/datastores.js';
import { modelRoutes } from './resources/models.js';
import { resourceGroupRoutes } from './resources/resource-groups.js';
import { storageAccountRoutes } from './resources/storage-accounts.js';
import { storageKeyRoutes } from './resources/storage-keys.js';
import { storageSasRoutes } from './resources/storage-sas.js';
import { subscriptionRoutes } from './resources/subscriptions.js';
import { workspaceRoutes } from './resources/workspaces.js';

export function managementRoutes(deps: ManagementDeps): ArmRoute[] {
  return [
    ...identityRoutes(deps),
    ...subscriptionRoutes(deps),
    ...resourceGroupRoutes(deps),
    ...storageAccountRoutes(deps),
    ...storageKeyRoutes(deps),
    ...storageSasRoutes(deps),
    ...workspaceRoutes(deps),
    ...datastoreRoutes(deps),
    ...modelRoutes(deps),
  ];
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
      ctx.principal = await authenticateBearer(ctx.req, deps.tokens, deps.directory, `${deps.armEndpoint}/${deps.tenantId}`);
      if (!ctx.query.get('api-version')) throw armErrors.missingApiVersion();
      if (params.subscriptionId !== undefined && !sameName(params.subscriptionId, deps.subscriptionId)) {
        throw armErrors.subscriptionNotFound(params.subscriptionId);
      }
      authorize(ctx.principal, route.action, ctx.path);
    }
    const result = await route.handler(ctx);
    if (ctx.req.method !== 'GET' && ctx.req.method !== 'HEAD') await deps.durable();
    sendJson(ctx.req, ctx.res, ctx.requestId, result.status, result.body, result.headers);
    deps.logger.debug({ requestId: ctx.requestId, method: ctx.req.method, route: route.pattern, status: result.status, clientId: ctx.principal?.clientId }, 'management request');
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'https://management.invalid');
    const ctx: ArmRequest = { req, res, requestId: randomUUID(), path: url.pathname, query: url.searchParams, params: {} };
    handle(ctx).catch((error: unknown) => {
      if (!(error instanceof ArmError)) {
        // Operators get the failure in the log; the client gets a generic 500.
        deps.logger.error({ requestId: ctx.requestId, method: req.method, err: error }, 'management request failed');
        error = armErrors.internal();
      }
      const armError = error as ArmError;
      if (armError.status >= 400 && armError.status < 500) {
        deps.logger.debug({ requestId: ctx.requestId, method: req.method, status: armError.status, code: armError.code }, 'management request refused');
      }
      if (!req.complete && !res.headersSent) res.setHeader('connection', 'close');
      sendArmError(req, res, ctx.requestId, armError);
    });
  };
}
