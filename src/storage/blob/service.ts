import { XMLBuilder } from 'fast-xml-parser';
import { errors, escapeXml } from '../http/errors.js';
import { httpDate } from '../http/headers.js';
import { parseXml, readSmallBody } from '../http/body.js';
import { includes, maxResults } from '../http/listing-params.js';
import { respondEmpty, respondXml } from '../http/respond.js';
import { LIMITS, type BlobRequest } from './deps.js';
import { metadataXml } from './xml.js';

export async function listContainers(ctx: BlobRequest): Promise<void> {
  const prefix = ctx.query.get('prefix') ?? '';
  const marker = ctx.query.get('marker') ?? '';
  const limit = maxResults(ctx.query);
  const withMetadata = includes(ctx.query, ['metadata', 'deleted', 'system']).has('metadata');
  const page = ctx.deps.repo.listContainers(ctx.account, prefix, marker, limit);
  const parts = [
    `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="${escapeXml(`${ctx.deps.endpoint}/${ctx.account}/`)}">`,
    `<Prefix>${escapeXml(prefix)}</Prefix>`,
    marker ? `<Marker>${escapeXml(marker)}</Marker>` : '',
    ctx.query.has('maxresults') ? `<MaxResults>${limit}</MaxResults>` : '',
    '<Containers>',
  ];
  for (const container of page.items) {
    parts.push(
      `<Container><Name>${escapeXml(container.name)}</Name><Properties>`,
      `<Last-Modified>${httpDate(container.lastModified)}</Last-Modified><Etag>${container.etag}</Etag>`,
      '<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState>',
      container.publicAccess ? `<PublicAccess>${container.publicAccess}</PublicAccess>` : '',
      '<HasImmutabilityPolicy>false</HasImmutabilityPolicy><HasLegalHold>false</HasLegalHold></Properties>',
      withMetadata ? metadataXml(container.metadata) : '',
      '</Container>',
    );
  }
  parts.push('</Containers>', `<NextMarker>${page.next === undefined ? '' : escapeXml(page.next)}</NextMarker></EnumerationResults>`);
  respondXml(ctx, 200, parts.join(''));
}

const ROOT = 'StorageServiceProperties';
const DEFAULT_PROPERTIES: Record<string, unknown> = {
  Logging: { Version: '1.0', Delete: 'false', Read: 'false', Write: 'false', RetentionPolicy: { Enabled: 'false' } },
  HourMetrics: { Version: '1.0', Enabled: 'false', RetentionPolicy: { Enabled: 'false' } },
  MinuteMetrics: { Version: '1.0', Enabled: 'false', RetentionPolicy: { Enabled: 'false' } },
  Cors: '',
  DeleteRetentionPolicy: { Enabled: 'false' },
  StaticWebsite: { Enabled: 'false' },
};
const KNOWN_SECTIONS = new Set([...Object.keys(DEFAULT_PROPERTIES), 'DefaultServiceVersion', 'ProtocolSettings']);
const builder = new XMLBuilder({ ignoreAttributes: true });

export async function getServiceProperties(ctx: BlobRequest): Promise<void> {
  const stored = ctx.deps.repo.getServiceProperties(ctx.account, ctx.service) ?? {};
  const xml = builder.build({ [ROOT]: { ...DEFAULT_PROPERTIES, ...stored } });
  respondXml(ctx, 200, `<?xml version="1.0" encoding="utf-8"?>${xml}`);
}

/** Sections the request leaves out keep their current values, as Azure documents. */
export async function setServiceProperties(ctx: BlobRequest): Promise<void> {
  const body = await readSmallBody(ctx.req, LIMITS.xmlBody);
  const doc = body.length ? parseXml(body) : undefined;
  if (!doc || typeof doc !== 'object' || !(ROOT in doc)) throw errors.invalidXml(`the root element must be <${ROOT}>.`);
  const sections = doc[ROOT] === '' ? {} : doc[ROOT];
  for (const name of Object.keys(sections)) {
    if (!KNOWN_SECTIONS.has(name)) throw errors.invalidXml(`<${name}> is not a service property; use ${[...KNOWN_SECTIONS].join(', ')}.`);
  }
  const stored = ctx.deps.repo.getServiceProperties(ctx.account, ctx.service) ?? {};
  ctx.deps.repo.setServiceProperties(ctx.account, ctx.service, { ...stored, ...sections });
  respondEmpty(ctx, 202);
}

export async function getAccountInfo(ctx: BlobRequest): Promise<void> {
  respondEmpty(ctx, 200, { 'x-ms-sku-name': 'Standard_LRS', 'x-ms-account-kind': 'StorageV2', 'x-ms-is-hns-enabled': 'false' });
}
