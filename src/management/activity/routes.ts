import type { ActivityRecord } from '../../db/activity-log.js';
import type { ManagementDeps } from '../deps.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { requestOrigin } from '../http/origin.js';
import type { ArmRoute } from '../http/route.js';
import { parseActivityFilter } from './filter.js';

const PAGE_SIZE = 200;
/** .NET ticks at the Unix epoch: ARM event ids end in `/ticks/{ticks}`. */
const EPOCH_TICKS = 621_355_968_000_000_000n;

const LOCALIZED: Record<string, string> = {
  'Microsoft.Storage/storageAccounts/listKeys/action': 'List Storage Account Keys',
  'Microsoft.Storage/storageAccounts/regenerateKey/action': 'Regenerate Storage Account Keys',
  'Microsoft.Storage/storageAccounts/listAccountSas/action': 'List Storage Account SAS',
  'Microsoft.Storage/storageAccounts/listServiceSas/action': 'List Storage Service SAS',
  'Microsoft.Storage/storageAccounts/listConsumers/action': 'List Storage Account Key Consumers',
  'Microsoft.Storage/storageAccounts/rotateKeys/action': 'Rotate Storage Account Keys',
  'Microsoft.MachineLearningServices/workspaces/resyncKeys/action': 'Resync Workspace Keys',
  'Microsoft.MachineLearningServices/workspaces/listKeys/action': 'List Workspace Keys',
  'Microsoft.MachineLearningServices/workspaces/datastores/write': 'Create or Update Datastore',
  'Microsoft.MachineLearningServices/workspaces/datastores/listSecrets/action': 'List Datastore Secrets',
};

const localized = (value: string, localizedValue = value) => ({ value, localizedValue });

/** `Provider/type[/subtype]` of an operation name, without its `/{name}/action` or `/write`. */
function resourceType(operation: string): string {
  const parts = operation.split('/');
  return parts.slice(0, parts[parts.length - 1] === 'action' ? -2 : -1).join('/');
}

/** One event in the shape of ARM's EventData (what @azure/arm-monitor's activityLogs.list returns). */
function eventJson(deps: ManagementDeps, event: ActivityRecord) {
  const timestamp = new Date(event.at).toISOString();
  const ended = event.status !== 'Started' && event.status !== 'Accepted';
  const type = resourceType(event.operation);
  return {
    authorization: { action: event.operation, scope: event.resourceId },
    caller: event.callerId,
    channels: 'Operation',
    claims: { appid: event.callerId, name: event.callerName, 'http://schemas.microsoft.com/identity/claims/tenantid': deps.tenantId },
    correlationId: event.correlationId,
    description: '',
    eventDataId: event.id,
    eventName: ended ? localized('EndRequest', 'End request') : localized('BeginRequest', 'Begin request'),
    category: localized('Administrative'),
    id: `${event.resourceId}/events/${event.id}/ticks/${BigInt(event.at) * 10_000n + EPOCH_TICKS}`,
    level: event.status === 'Failed' ? 'Error' : event.properties.warnings ? 'Warning' : 'Informational',
    operationId: event.correlationId,
    operationName: localized(event.operation, LOCALIZED[event.operation]),
    resourceGroupName: event.resourceGroup,
    resourceProviderName: localized(event.operation.split('/')[0]!),
    resourceType: localized(type),
    resourceId: event.resourceId,
    status: localized(event.status),
    subStatus: localized(''),
    eventTimestamp: timestamp,
    submissionTimestamp: timestamp,
    subscriptionId: deps.subscriptionId,
    tenantId: deps.tenantId,
    properties: event.properties,
  };
}

/** `$select=caller,operationName,...`: only those top-level fields of each event. */
function select(ctx: ArmRequest, event: Record<string, unknown>): Record<string, unknown> {
  const fields = ctx.query.get('$select');
  if (!fields) return event;
  const wanted = new Set(fields.split(',').map((field) => field.trim().toLowerCase()));
  return Object.fromEntries(Object.entries(event).filter(([name]) => wanted.has(name.toLowerCase())));
}

/**
 * GET /subscriptions/{id}/providers/Microsoft.Insights/eventtypes/management/values:
 * the activity log, newest first, paged with `$skipToken` (`nextLink`).
 */
async function listEvents(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const filter = parseActivityFilter(ctx.query.get('$filter'));
  const token = ctx.query.get('$skipToken');
  let before: { at: number; id: string } | undefined;
  if (token) {
    const [at, id] = Buffer.from(token, 'base64url').toString('utf8').split('/');
    if (at && id && Number.isFinite(Number(at))) before = { at: Number(at), id };
  }
  const page = await deps.activity.list({ ...filter, before, limit: PAGE_SIZE + 1 });
  const items = page.slice(0, PAGE_SIZE);
  const body: { value: unknown[]; nextLink?: string } = { value: items.map((event) => select(ctx, eventJson(deps, event))) };
  if (page.length > PAGE_SIZE) {
    const last = items[items.length - 1]!;
    const query = new URLSearchParams(ctx.query);
    query.set('$skipToken', Buffer.from(`${last.at}/${last.id}`, 'utf8').toString('base64url'));
    body.nextLink = `${requestOrigin(ctx.req, deps.armEndpoint)}${ctx.path}?${query.toString()}`;
  }
  return { status: 200, body };
}

export function activityLogRoutes(deps: ManagementDeps): ArmRoute[] {
  return [
    {
      method: 'GET',
      pattern: '/subscriptions/{subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values',
      action: 'Microsoft.Insights/eventtypes/values/read',
      handler: (ctx) => listEvents(deps, ctx),
    },
  ];
}
