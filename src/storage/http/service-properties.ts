import { XMLBuilder } from 'fast-xml-parser';
import type { ServicePropertiesStore } from '../../db/service-properties.js';
import { parseXml, readSmallBody } from './body.js';
import type { StorageRequest } from './context.js';
import { errors } from './errors.js';
import { respondEmpty, respondXml } from './respond.js';

const ROOT = 'StorageServiceProperties';
const MAX_BODY = 4 * 1024 * 1024;
const builder = new XMLBuilder({ ignoreAttributes: true });

/**
 * Get and Set Service Properties for one service: its default sections, and the
 * names Set accepts (defaults plus optional ones such as DefaultServiceVersion).
 * Nothing here acts on the properties; they are kept so clients read back what they set.
 */
export function servicePropertiesHandlers(defaults: Record<string, unknown>, optionalSections: readonly string[]) {
  const known = new Set([...Object.keys(defaults), ...optionalSections]);
  return {
    async get(ctx: StorageRequest, store: ServicePropertiesStore): Promise<void> {
      const stored = (await store.get(ctx.account, ctx.service)) ?? {};
      respondXml(ctx, 200, `<?xml version="1.0" encoding="utf-8"?>${builder.build({ [ROOT]: { ...defaults, ...stored } })}`);
    },

    /** Sections the request leaves out keep their current values, as Azure documents. */
    async set(ctx: StorageRequest, store: ServicePropertiesStore): Promise<void> {
      const body = await readSmallBody(ctx.req, MAX_BODY);
      const doc = body.length ? parseXml(body) : undefined;
      if (!doc || typeof doc !== 'object' || !(ROOT in doc)) throw errors.invalidXml(`the root element must be <${ROOT}>.`);
      const sections = doc[ROOT] === '' ? {} : doc[ROOT];
      for (const name of Object.keys(sections)) {
        if (!known.has(name)) throw errors.invalidXml(`<${name}> is not a service property; use ${[...known].join(', ')}.`);
      }
      await store.set(ctx.account, ctx.service, sections);
      respondEmpty(ctx, 202);
    },
  };
}
