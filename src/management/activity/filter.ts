import type { ActivityQuery } from '../../db/activity-log.js';
import { armErrors } from '../http/errors.js';

const CONDITION = /^\s*(\w+)\s+(eq|ge|le)\s+'((?:[^']|'')*)'\s*(?:and\b|$)/i;
const SUPPORTED =
  "eventTimestamp ge '<ISO time>' (required), eventTimestamp le '<ISO time>', resourceGroupName eq '<group>', resourceUri eq '<resource id>', correlationId eq '<id>' and resourceProvider eq '<namespace>', joined by 'and'";

/**
 * Reads the activity log's `$filter`, as the Azure Monitor REST API and
 * @azure/arm-monitor's activityLogs.list send it, e.g.
 * `eventTimestamp ge '2024-01-01T00:00:00Z' and resourceGroupName eq 'rg'`.
 * Like Azure, a start time is required.
 */
export function parseActivityFilter(filter: string | null, now = Date.now()): Omit<ActivityQuery, 'before' | 'limit'> {
  if (!filter) throw armErrors.invalidParameter(`The query parameter '$filter' is required, e.g. $filter=eventTimestamp ge '2024-01-01T00:00:00Z'. Supported conditions: ${SUPPORTED}.`);
  const query: Omit<ActivityQuery, 'before' | 'limit'> = { from: Number.NaN, to: now };
  let rest = filter;
  while (rest.trim() !== '') {
    const match = CONDITION.exec(rest);
    if (!match) throw armErrors.invalidParameter(`The $filter '${filter}' could not be read near '${rest.trim()}'. Supported conditions: ${SUPPORTED}.`);
    rest = rest.slice(match[0].length);
    const [, field, op, raw] = match;
    const value = raw!.replaceAll("''", "'");
    const condition = `${field!.toLowerCase()} ${op!.toLowerCase()}`;
    if (condition === 'eventtimestamp ge' || condition === 'eventtimestamp le') {
      const time = Date.parse(value);
      if (Number.isNaN(time)) throw armErrors.invalidParameter(`The $filter time '${value}' is not an ISO 8601 time such as 2024-01-31T00:00:00Z.`);
      if (condition === 'eventtimestamp ge') query.from = time;
      else query.to = time;
    } else if (condition === 'resourcegroupname eq') query.resourceGroup = value;
    else if (condition === 'resourceuri eq' || condition === 'resourceid eq') query.resourceId = value;
    else if (condition === 'correlationid eq') query.correlationId = value;
    else if (condition === 'resourceprovider eq') query.provider = value;
    else throw armErrors.invalidParameter(`The $filter condition '${field} ${op}' is not supported. Supported conditions: ${SUPPORTED}.`);
  }
  if (Number.isNaN(query.from)) throw armErrors.invalidParameter(`The $filter must give a start time: eventTimestamp ge '<ISO time>'. Supported conditions: ${SUPPORTED}.`);
  return query;
}
