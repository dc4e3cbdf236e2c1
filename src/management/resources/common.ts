import type { ResourceGroupRecord } from '../../db/resource-groups.js';
import type { ManagementDeps } from '../deps.js';
import type { ArmRequest } from '../http/context.js';
import { armErrors } from '../http/errors.js';

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The resource group a request names; 404 ResourceGroupNotFound when it does not exist. */
export async function requireGroup(deps: ManagementDeps, ctx: ArmRequest): Promise<ResourceGroupRecord> {
  const name = ctx.params.resourceGroupName!;
  const group = await deps.groups.get(name);
  if (!group) throw armErrors.resourceGroupNotFound(name);
  return group;
}

/** ARM's `systemData`: who created and last changed a resource, and when. */
export function systemData(created: number, modified: number) {
  return { createdAt: iso(created), createdByType: 'Application', lastModifiedAt: iso(modified), lastModifiedByType: 'Application' };
}

/**
 * ARM list paging: `$skipToken` carries the last name of the previous page
 * (opaque to clients), and `nextLink` repeats the request's URL with it, on the
 * origin the client used.
 */
export function nextLink(ctx: ArmRequest, origin: string, parameter: string, lastName: string): string {
  const query = new URLSearchParams(ctx.query);
  query.set(parameter, Buffer.from(lastName, 'utf8').toString('base64url'));
  return `${origin}${ctx.path}?${query.toString()}`;
}

export function pageStart(ctx: ArmRequest, parameter: string): string {
  const token = ctx.query.get(parameter);
  return token === null ? '' : Buffer.from(token, 'base64url').toString('utf8');
}

/** A page size from a query parameter (`count`, `$top`), within bounds. */
export function pageSize(ctx: ArmRequest, parameter: string, fallback: number, max: number): number {
  const raw = ctx.query.get(parameter);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw armErrors.invalidParameter(`The query parameter '${parameter}' must be a positive integer; got '${raw}'.`);
  return Math.min(value, max);
}
