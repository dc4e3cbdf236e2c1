import type { ArmClients } from './arm-clients.js';

const API_VERSION = '2015-04-01';

/** An activity log event, in ARM's EventData shape (the fields mlspace fills). */
export interface ActivityEvent {
  caller: string;
  claims: { appid: string; name: string } & Record<string, string>;
  correlationId: string;
  eventDataId: string;
  eventName: { value: string; localizedValue: string };
  id: string;
  level: 'Informational' | 'Warning' | 'Error';
  operationName: { value: string; localizedValue: string };
  resourceGroupName?: string;
  resourceId: string;
  status: { value: string; localizedValue: string };
  eventTimestamp: string;
  subscriptionId: string;
  properties: Record<string, string>;
}

export interface ActivityLogQuery {
  from: Date;
  to?: Date;
  resourceGroup?: string;
  resourceId?: string;
  correlationId?: string;
  /** A resource provider namespace, e.g. Microsoft.Storage. */
  provider?: string;
}

/** The `$filter` the activity log API reads; quotes in values are doubled, as OData writes them. */
export function activityFilter(query: ActivityLogQuery): string {
  const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;
  const conditions = [`eventTimestamp ge ${quote(query.from.toISOString())}`];
  if (query.to) conditions.push(`eventTimestamp le ${quote(query.to.toISOString())}`);
  if (query.resourceGroup) conditions.push(`resourceGroupName eq ${quote(query.resourceGroup)}`);
  if (query.resourceId) conditions.push(`resourceUri eq ${quote(query.resourceId)}`);
  if (query.correlationId) conditions.push(`correlationId eq ${quote(query.correlationId)}`);
  if (query.provider) conditions.push(`resourceProvider eq ${quote(query.provider)}`);
  return conditions.join(' and ');
}

/** The activity log (key and credential operations, rotations), newest first, following nextLink pages as they are read. */
export async function* activityLog(arm: ArmClients, query: ActivityLogQuery): AsyncGenerator<ActivityEvent> {
  let next: string | undefined =
    `/subscriptions/${arm.subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values?api-version=${API_VERSION}&$filter=${encodeURIComponent(activityFilter(query))}`;
  while (next) {
    const page: { value: ActivityEvent[]; nextLink?: string } = (await arm.actions.request<{ value: ActivityEvent[]; nextLink?: string }>('GET', next)).body;
    yield* page.value;
    next = page.nextLink;
  }
}
