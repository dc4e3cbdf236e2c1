import type { ContainerRecord } from '../../db/records.js';
import { checkConditions } from '../http/conditions.js';
import { StorageError, errors, escapeXml } from '../http/errors.js';
import { header, httpDate, listedEtag } from '../http/headers.js';
import { respondEmpty } from '../http/respond.js';
import { blobErrors } from './blob-errors.js';
import type { BlobRequest } from './deps.js';
import { leaseAfterWrite } from './leases.js';
import { checkContainerName } from './names.js';
import { DAY, remainingRetentionDays } from './versions.js';

/**
 * Containers that change name: Rename Container, and soft delete under the
 * account's container delete retention policy, which keeps a deleted container
 * and all it holds under a name no container can have, until Restore Container
 * gives it a name again or the retention runs out.
 */

/** The name a soft-deleted container is kept under: '~' (which no container name has), its name and its version. */
function hiddenName(name: string, version: string): string {
  return `~${name}~${version}`;
}

/**
 * A new deleted version of container `name`, as Azure writes one: 16 hex
 * digits of its deletion time in 100 ns ticks, the next tick when a copy
 * deleted in the same tick holds that one.
 */
async function deletedVersion(ctx: BlobRequest, name: string, now: number): Promise<string> {
  const version = (ticks: bigint) => ticks.toString(16).toUpperCase().padStart(16, '0');
  let ticks = BigInt(now) * 10000n + 116444736000000000n;
  while (await ctx.deps.repo.getContainer(ctx.account, hiddenName(name, version(ticks)))) ticks++;
  return version(ticks);
}

/** Delete Container under a retention policy: the container goes out of sight, whole, for `days`. */
export async function softDeleteContainer(ctx: BlobRequest, days: number): Promise<void> {
  const now = Date.now();
  await ctx.deps.repo.moveContainer(ctx.account, ctx.container, hiddenName(ctx.container, await deletedVersion(ctx, ctx.container, now)), (source, target) => {
    if (!source) throw blobErrors.containerNotFound(ctx.container);
    // Another delete of this name took the same instant since the version was chosen.
    if (target) throw new StorageError(409, 'OperationConflict', 'Another delete of this container name happened at the same moment; retry.');
    leaseAfterWrite(source.lease, ctx.req.headers, now, 'container');
    checkConditions(ctx.req.headers, source, 'write');
    return { ...source, lease: undefined, deletedTime: now, retentionExpires: now + days * DAY };
  });
  respondEmpty(ctx, 202);
}

/** Restore Container: a soft-deleted container (x-ms-deleted-container-name and -version) comes back, under the name in the URL. */
export async function restoreContainer(ctx: BlobRequest): Promise<void> {
  const name = header(ctx.req.headers, 'x-ms-deleted-container-name');
  const version = header(ctx.req.headers, 'x-ms-deleted-container-version');
  if (name === undefined) throw errors.missingHeader('x-ms-deleted-container-name', 'Name the deleted container, as List Containers with include=deleted shows it.');
  if (version === undefined) throw errors.missingHeader('x-ms-deleted-container-version', 'Give the <Version> List Containers with include=deleted shows for it.');
  checkContainerName(name);
  const now = Date.now();
  const restored = await ctx.deps.repo.moveContainer(ctx.account, hiddenName(name, version), ctx.container, (source, target) => {
    if (!source || source.retentionExpires! <= now) throw blobErrors.containerNotFound(`${name} (version ${version})`);
    if (target) throw blobErrors.containerExists(ctx.container);
    const { deletedTime: _d, retentionExpires: _r, ...container } = source;
    return container;
  });
  respondEmpty(ctx, 201, { etag: restored.etag, 'last-modified': httpDate(restored.lastModified) });
}

/** Rename Container: x-ms-source-container-name, and all it holds, takes the name in the URL. */
export async function renameContainer(ctx: BlobRequest): Promise<void> {
  const source = header(ctx.req.headers, 'x-ms-source-container-name');
  if (source === undefined) throw errors.missingHeader('x-ms-source-container-name', 'Name the container to rename.');
  checkContainerName(source);
  const now = Date.now();
  // A leased source is renamed only by the holder of its lease, named in x-ms-source-lease-id.
  const leaseHeaders = { 'x-ms-lease-id': header(ctx.req.headers, 'x-ms-source-lease-id') };
  await ctx.deps.repo.moveContainer(ctx.account, source, ctx.container, (current, target) => {
    if (!current || current.deletedTime !== undefined) throw blobErrors.containerNotFound(source);
    if (target) throw blobErrors.containerExists(ctx.container);
    leaseAfterWrite(current.lease, leaseHeaders, now, 'container');
    return { ...current, lease: undefined };
  });
  respondEmpty(ctx, 200);
}

/** The soft-deleted containers whose names start with `prefix`, as List Containers with include=deleted shows them. */
export async function deletedContainersXml(ctx: BlobRequest, prefix: string, now: number): Promise<string> {
  return (await ctx.deps.repo.hiddenContainers(ctx.account))
    .map(({ hiddenName: hidden, container }) => ({ name: hidden.slice(1, hidden.lastIndexOf('~')), version: hidden.slice(hidden.lastIndexOf('~') + 1), container }))
    .filter(({ name, container }) => name.startsWith(prefix) && container.retentionExpires! > now)
    .map(({ name, version, container }) => deletedContainerXml(name, version, container, now))
    .join('');
}

function deletedContainerXml(name: string, version: string, container: ContainerRecord, now: number): string {
  return (
    `<Container><Name>${escapeXml(name)}</Name><Deleted>true</Deleted><Version>${version}</Version><Properties>` +
    `<Last-Modified>${httpDate(container.lastModified)}</Last-Modified><Etag>${listedEtag(container.etag)}</Etag>` +
    `<DeletedTime>${httpDate(container.deletedTime!)}</DeletedTime>` +
    `<RemainingRetentionDays>${remainingRetentionDays(container, now)}</RemainingRetentionDays>` +
    '</Properties></Container>'
  );
}
