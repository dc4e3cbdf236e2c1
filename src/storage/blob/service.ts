import { escapeXml } from '../http/errors.js';
import { httpDate, listedEtag } from '../http/headers.js';
import { includes, maxResults } from '../http/listing-params.js';
import { respondEmpty, respondXml } from '../http/respond.js';
import { servicePropertiesHandlers } from '../http/service-properties.js';
import type { BlobRequest } from './deps.js';
import { leaseXml } from './leases.js';
import { deletedContainersXml } from './container-moves.js';
import { metadataXml } from '../http/metadata-xml.js';

export async function listContainers(ctx: BlobRequest): Promise<void> {
  const prefix = ctx.query.get('prefix') ?? '';
  const marker = ctx.query.get('marker') ?? '';
  const limit = maxResults(ctx.query);
  const include = includes(ctx.query, ['metadata', 'deleted', 'system']);
  const withMetadata = include.has('metadata');
  const page = await ctx.deps.repo.listContainers(ctx.account, prefix, marker, limit);
  const parts = [
    `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="${escapeXml(`${ctx.deps.endpoint}/${ctx.account}/`)}">`,
    `<Prefix>${escapeXml(prefix)}</Prefix>`,
    marker ? `<Marker>${escapeXml(marker)}</Marker>` : '',
    ctx.query.has('maxresults') ? `<MaxResults>${limit}</MaxResults>` : '',
    '<Containers>',
  ];
  const now = Date.now();
  for (const container of page.items) {
    parts.push(
      `<Container><Name>${escapeXml(container.name)}</Name><Properties>`,
      `<Last-Modified>${httpDate(container.lastModified)}</Last-Modified><Etag>${listedEtag(container.etag)}</Etag>`,
      leaseXml(container.lease, now),
      container.publicAccess ? `<PublicAccess>${container.publicAccess}</PublicAccess>` : '',
      '<HasImmutabilityPolicy>false</HasImmutabilityPolicy><HasLegalHold>false</HasLegalHold></Properties>',
      withMetadata ? metadataXml(container.metadata) : '',
      '</Container>',
    );
  }
  // Soft-deleted containers follow the last page of live ones.
  if (include.has('deleted') && page.next === undefined) parts.push(await deletedContainersXml(ctx, prefix, now));
  parts.push('</Containers>', `<NextMarker>${page.next === undefined ? '' : escapeXml(page.next)}</NextMarker></EnumerationResults>`);
  respondXml(ctx, 200, parts.join(''));
}

const properties = servicePropertiesHandlers(
  {
    Logging: { Version: '1.0', Delete: 'false', Read: 'false', Write: 'false', RetentionPolicy: { Enabled: 'false' } },
    HourMetrics: { Version: '1.0', Enabled: 'false', RetentionPolicy: { Enabled: 'false' } },
    MinuteMetrics: { Version: '1.0', Enabled: 'false', RetentionPolicy: { Enabled: 'false' } },
    Cors: '',
    DeleteRetentionPolicy: { Enabled: 'false' },
    StaticWebsite: { Enabled: 'false' },
  },
  ['DefaultServiceVersion', 'ProtocolSettings'],
);

export async function getServiceProperties(ctx: BlobRequest): Promise<void> {
  await properties.get(ctx, ctx.deps.serviceProperties);
}

export async function setServiceProperties(ctx: BlobRequest): Promise<void> {
  await properties.set(ctx, ctx.deps.serviceProperties);
}

export async function getAccountInfo(ctx: BlobRequest): Promise<void> {
  respondEmpty(ctx, 200, { 'x-ms-sku-name': 'Standard_LRS', 'x-ms-account-kind': 'StorageV2', 'x-ms-is-hns-enabled': 'false' });
}

/**
 * Get Blob Service Stats: Azure answers it for the secondary copy of a
 * geo-replicated account. A server keeps one copy, so there is no replication
 * to report: its status is `unavailable`, as Azure reports a secondary that
 * cannot be read.
 */
export async function getServiceStats(ctx: BlobRequest): Promise<void> {
  respondXml(ctx, 200, '<?xml version="1.0" encoding="utf-8"?><StorageServiceStats><GeoReplication><Status>unavailable</Status><LastSyncTime></LastSyncTime></GeoReplication></StorageServiceStats>');
}
