import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServicePropertiesStore } from '../../db/service-properties.js';
import type { StorageRequest } from './context.js';
import { StorageError } from './errors.js';
import { writeHead } from './respond.js';

/** A CORS rule of a service's properties (Set Service Properties, `<Cors><CorsRule>`). */
export interface CorsRule {
  origins: string[];
  methods: string[];
  headers: string[];
  exposed: string[];
  maxAge: number;
}

const list = (value: unknown): string[] =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim().toLowerCase())
        .filter(Boolean)
    : [];

/** The CORS rules stored for an account's service, in their order: read only for requests that carry an Origin. */
export async function corsRules(store: ServicePropertiesStore, account: string, service: string): Promise<CorsRule[]> {
  const cors = (await store.get(account, service))?.Cors as { CorsRule?: unknown } | '' | undefined;
  if (!cors || typeof cors !== 'object' || !cors.CorsRule) return [];
  const rules = Array.isArray(cors.CorsRule) ? cors.CorsRule : [cors.CorsRule];
  return rules.map((rule: Record<string, unknown>) => ({
    origins: list(rule.AllowedOrigins),
    methods: list(rule.AllowedMethods).map((method) => method.toUpperCase()),
    headers: list(rule.AllowedHeaders),
    exposed: list(rule.ExposedHeaders),
    maxAge: Number(rule.MaxAgeInSeconds) || 0,
  }));
}

/** A header list entry matches exactly, or as a prefix (`x-ms-meta*`), or `*` matches all. */
function allowed(patterns: string[], value: string): boolean {
  return patterns.some((pattern) => pattern === '*' || pattern === value || (pattern.endsWith('*') && value.startsWith(pattern.slice(0, -1))));
}

function matchingRule(rules: CorsRule[], origin: string, method: string, requestHeaders: string[]): CorsRule | undefined {
  const lowerOrigin = origin.toLowerCase();
  return rules.find(
    (rule) =>
      (rule.origins.includes('*') || rule.origins.includes(lowerOrigin)) &&
      rule.methods.includes(method) &&
      requestHeaders.every((name) => allowed(rule.headers, name)),
  );
}

/**
 * Preflight (OPTIONS): answered without authentication, as browsers send it,
 * from the first rule that allows the origin, method and headers asked for;
 * 403 CorsPreflightFailure when none does.
 */
export function answerPreflight(ctx: StorageRequest, rules: CorsRule[]): void {
  const { req } = ctx;
  const origin = req.headers.origin;
  const method = req.headers['access-control-request-method'];
  if (origin === undefined || typeof method !== 'string') {
    throw new StorageError(400, 'InvalidHeaderValue', 'A CORS preflight request needs the Origin and Access-Control-Request-Method headers.');
  }
  const requested = list(req.headers['access-control-request-headers']);
  const rule = matchingRule(rules, origin, method.toUpperCase(), requested);
  if (!rule) throw new StorageError(403, 'CorsPreflightFailure', 'CORS not enabled or no matching rule found for this request. Add a CORS rule with Set Service Properties.');
  writeHead(ctx, 200, {
    'access-control-allow-origin': rule.origins.includes('*') ? '*' : origin,
    'access-control-allow-methods': method.toUpperCase(),
    ...(requested.length > 0 ? { 'access-control-allow-headers': requested.join(',') } : {}),
    'access-control-max-age': String(rule.maxAge),
    ...(rule.origins.includes('*') ? {} : { 'access-control-allow-credentials': 'true', vary: 'Origin' }),
    'content-length': 0,
  });
  ctx.res.end();
}

/** On a request from a browser (Origin), the headers that let it read the answer, when a rule allows its origin and method. */
export function addCorsHeaders(req: IncomingMessage, res: ServerResponse, rules: CorsRule[]): void {
  const rule = matchingRule(rules, req.headers.origin!, req.method ?? 'GET', []);
  if (!rule) return;
  const any = rule.origins.includes('*');
  res.setHeader('access-control-allow-origin', any ? '*' : req.headers.origin!);
  if (rule.exposed.length > 0) res.setHeader('access-control-expose-headers', rule.exposed.join(','));
  if (!any) {
    res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('vary', 'Origin');
  }
}

/**
 * The web console, served on the management port, calls every account's Blob
 * and File services from the browser, as the Azure portal's storage browser
 * does, whatever CORS rules the account has. Its origin is https on the
 * management port, at the host name the data-plane request names: the console
 * builds its data URLs from its own host name. It authenticates with a SAS in
 * the URL and sends no cookie, so its answers may allow any origin and expose
 * every header.
 */
export class ConsoleOrigin {
  /** The management port, once it listens; 0 until then. */
  port = 0;

  matches(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (this.port === 0 || origin === undefined) return false;
    try {
      const url = new URL(origin);
      const host = new URL(`http://${req.headers.host ?? ''}`).hostname;
      return url.protocol === 'https:' && url.port === String(this.port) && url.hostname === host;
    } catch {
      return false;
    }
  }
}

export const CONSOLE_CORS_RULE: CorsRule = {
  origins: ['*'],
  methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'MERGE', 'PATCH'],
  headers: ['*'],
  exposed: ['*'],
  maxAge: 600,
};
