import type { IncomingMessage } from 'node:http';

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * `https://host[:port]` as the client addressed us. Links the server hands out
 * (OIDC endpoints, nextLink) use it, so a client that reached us as `localhost`
 * is not sent to `127.0.0.1`, whose certificate name or issuer it would not
 * accept. A missing or malformed Host falls back to the configured endpoint.
 */
export function requestOrigin(req: IncomingMessage, fallback: string): string {
  const host = req.headers.host;
  return host !== undefined && HOST.test(host) ? `https://${host}` : fallback;
}
