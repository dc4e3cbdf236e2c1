import { escapeXml } from '../http/errors.js';
import { httpDate } from '../http/headers.js';
import { includes, maxResults } from '../http/listing-params.js';
import { metadataXml } from '../http/metadata-xml.js';
import { respondXml } from '../http/respond.js';
import { servicePropertiesHandlers } from '../http/service-properties.js';
import type { FileRequest } from './deps.js';

export async function listShares(ctx: FileRequest): Promise<void> {
  const prefix = ctx.query.get('prefix') ?? '';
  const marker = ctx.query.get('marker') ?? '';
  const limit = maxResults(ctx.query);
  // There are no snapshots or soft-deleted shares to include; asking for them is not an error.
  const withMetadata = includes(ctx.query, ['metadata', 'snapshots', 'deleted']).has('metadata');
  const page = await ctx.deps.repo.listShares(ctx.account, prefix, marker, limit);
  const parts = [
    `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="${escapeXml(`${ctx.deps.endpoint}/${ctx.account}/`)}">`,
    `<Prefix>${escapeXml(prefix)}</Prefix>`,
    marker ? `<Marker>${escapeXml(marker)}</Marker>` : '',
    ctx.query.has('maxresults') ? `<MaxResults>${limit}</MaxResults>` : '',
    '<Shares>',
  ];
  for (const share of page.items) {
    parts.push(
      `<Share><Name>${escapeXml(share.name)}</Name><Properties>`,
      `<Last-Modified>${httpDate(share.lastModified)}</Last-Modified><Etag>${share.etag}</Etag><Quota>${share.quota}</Quota>`,
      `<AccessTier>${share.accessTier}</AccessTier><AccessTierChangeTime>${httpDate(share.accessTierChangeTime)}</AccessTierChangeTime>`,
      '<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><EnabledProtocols>SMB</EnabledProtocols></Properties>',
      withMetadata ? metadataXml(share.metadata) : '',
      '</Share>',
    );
  }
  parts.push('</Shares>', `<NextMarker>${page.next === undefined ? '' : escapeXml(page.next)}</NextMarker></EnumerationResults>`);
  respondXml(ctx, 200, parts.join(''));
}

const properties = servicePropertiesHandlers(
  {
    HourMetrics: { Version: '1.0', Enabled: 'false', RetentionPolicy: { Enabled: 'false' } },
    MinuteMetrics: { Version: '1.0', Enabled: 'false', RetentionPolicy: { Enabled: 'false' } },
    Cors: '',
    ShareDeleteRetentionPolicy: { Enabled: 'false' },
    ProtocolSettings: { SMB: { Multichannel: { Enabled: 'false' } } },
  },
  [],
);

export async function getServiceProperties(ctx: FileRequest): Promise<void> {
  await properties.get(ctx, ctx.deps.serviceProperties);
}

export async function setServiceProperties(ctx: FileRequest): Promise<void> {
  await properties.set(ctx, ctx.deps.serviceProperties);
}
