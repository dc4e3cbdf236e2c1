import type { OutgoingHttpHeaders } from 'node:http';
import type { ContainerRecord } from '../../db/records.js';
import { checkConditions } from '../http/conditions.js';
import { errors } from '../http/errors.js';
import { header, httpDate, newEtag, readMetadata, writeMetadata } from '../http/headers.js';
import { readSmallBody } from '../http/body.js';
import { parseSignedIdentifiers, signedIdentifiersXml } from '../http/signed-identifiers.js';
import { respondEmpty, respondXml } from '../http/respond.js';
import { blobErrors } from './blob-errors.js';
import { discard } from './blobs.js';
import { LIMITS, type BlobRequest } from './deps.js';
import { softDeleteContainer } from './container-moves.js';
import { addLeaseHeaders, applyLeaseAction, checkLeaseIdIfGiven, leaseAfterWrite, type LeaseOutcome } from './leases.js';

export async function requireContainer(ctx: BlobRequest): Promise<ContainerRecord> {
  const container = await ctx.deps.repo.getContainer(ctx.account, ctx.container);
  if (!container) throw blobErrors.containerNotFound(ctx.container);
  return container;
}

/** The container an operation other than delete acts on: a lease id it names, which it need not, must be the container's. */
async function requireNamedLeaseHolder(ctx: BlobRequest): Promise<ContainerRecord> {
  const container = await requireContainer(ctx);
  checkLeaseIdIfGiven(container.lease, ctx.req.headers, Date.now(), 'container');
  return container;
}

function publicAccessHeader(ctx: BlobRequest): 'container' | 'blob' | undefined {
  const value = header(ctx.req.headers, 'x-ms-blob-public-access');
  if (value === undefined || value === '') return undefined;
  if (value !== 'container' && value !== 'blob') {
    throw errors.invalidHeader('x-ms-blob-public-access', "use 'container', 'blob', or omit the header for private access.");
  }
  return value;
}

function versionHeaders(container: ContainerRecord) {
  return { etag: container.etag, 'last-modified': httpDate(container.lastModified) };
}

/** A new, empty container's record (Create Container, and the management plane's workspace containers). */
export function newContainer(
  account: string,
  name: string,
  options: { metadata?: Record<string, string>; publicAccess?: 'container' | 'blob' } = {},
  now = Date.now(),
): ContainerRecord {
  return {
    account,
    name,
    created: now,
    lastModified: now,
    etag: newEtag(now),
    metadata: options.metadata ?? {},
    publicAccess: options.publicAccess,
    signedIdentifiers: [],
  };
}

export async function createContainer(ctx: BlobRequest): Promise<void> {
  const container = newContainer(ctx.account, ctx.container, { metadata: readMetadata(ctx.req.headers), publicAccess: publicAccessHeader(ctx) });
  if (!(await ctx.deps.repo.createContainer(container))) throw blobErrors.containerExists(ctx.container);
  respondEmpty(ctx, 201, versionHeaders(container));
}

export async function deleteContainer(ctx: BlobRequest): Promise<void> {
  const retentionDays = ctx.deps.blobPolicy(ctx.account).containerDeleteRetentionDays;
  if (retentionDays !== undefined) return softDeleteContainer(ctx, retentionDays);
  const orphans = await ctx.deps.repo.deleteContainer(ctx.account, ctx.container, (current) => {
    if (!current) return;
    // A container's lease guards its deletion only; the leases of blobs inside it do not stop it.
    leaseAfterWrite(current.lease, ctx.req.headers, Date.now(), 'container');
    checkConditions(ctx.req.headers, current, 'write');
  });
  if (orphans === undefined) throw blobErrors.containerNotFound(ctx.container);
  discard(ctx.deps, orphans);
  respondEmpty(ctx, 202);
}

export async function getContainerProperties(ctx: BlobRequest): Promise<void> {
  const container = await requireNamedLeaseHolder(ctx);
  writeMetadata(ctx.res, container.metadata);
  const headers: OutgoingHttpHeaders = {
    ...versionHeaders(container),
    'x-ms-has-immutability-policy': 'false',
    'x-ms-has-legal-hold': 'false',
    'x-ms-default-encryption-scope': '$account-encryption-key',
    'x-ms-deny-encryption-scope-override': 'false',
  };
  addLeaseHeaders(headers, container.lease, Date.now());
  if (container.publicAccess) headers['x-ms-blob-public-access'] = container.publicAccess;
  respondEmpty(ctx, 200, headers);
}

export async function setContainerMetadata(ctx: BlobRequest): Promise<void> {
  const metadata = readMetadata(ctx.req.headers);
  const container = await updateContainer(ctx, (current) => ({ ...current, metadata }));
  respondEmpty(ctx, 200, versionHeaders(container));
}

export async function getContainerAcl(ctx: BlobRequest): Promise<void> {
  const container = await requireNamedLeaseHolder(ctx);
  const headers: Record<string, string> = versionHeaders(container);
  if (container.publicAccess) headers['x-ms-blob-public-access'] = container.publicAccess;
  respondXml(ctx, 200, signedIdentifiersXml(container.signedIdentifiers), headers);
}

export async function setContainerAcl(ctx: BlobRequest): Promise<void> {
  const publicAccess = publicAccessHeader(ctx);
  const body = await readSmallBody(ctx.req, LIMITS.xmlBody);
  const signedIdentifiers = parseSignedIdentifiers(body);
  const container = await updateContainer(ctx, (current) => ({ ...current, publicAccess, signedIdentifiers }));
  respondEmpty(ctx, 200, versionHeaders(container));
}

/**
 * Applies `change` to the container atomically, honouring the request's
 * conditional headers: to the container as it is under the write's lock, so what
 * another request changed meanwhile (the lease, which keeps the ETag, or other
 * settings) is kept, as Azure serializes such writes rather than refusing one.
 */
async function updateContainer(ctx: BlobRequest, change: (current: ContainerRecord) => ContainerRecord): Promise<ContainerRecord> {
  const current = await requireContainer(ctx);
  const now = Date.now();
  const next = { ...change(current), lastModified: now, etag: newEtag(now) };
  await ctx.deps.repo.updateContainer(next, (latest) => {
    if (!latest) throw blobErrors.containerNotFound(ctx.container);
    checkLeaseIdIfGiven(latest.lease, ctx.req.headers, now, 'container');
    checkConditions(ctx.req.headers, latest, 'write');
    Object.assign(next, change(latest), { lastModified: now, etag: next.etag, lease: latest.lease });
  });
  return next;
}

/** Lease Container: acquire, renew, change, release or break, applied to the container's current lease in one transaction. */
export async function leaseContainer(ctx: BlobRequest): Promise<void> {
  let outcome: LeaseOutcome | undefined;
  const container = await ctx.deps.repo.changeContainer(ctx.account, ctx.container, (current) => {
    if (!current) throw blobErrors.containerNotFound(ctx.container);
    checkConditions(ctx.req.headers, current, 'write');
    outcome = applyLeaseAction(ctx.req.headers, current.lease, Date.now(), 'container');
    return { ...current, lease: outcome.lease };
  });
  respondEmpty(ctx, outcome!.status, { ...versionHeaders(container), ...outcome!.headers });
}
