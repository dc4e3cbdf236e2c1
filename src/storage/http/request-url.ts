import type { StorageService } from './context.js';
import { errors } from './errors.js';

export interface ParsedUrl {
  account: string;
  container: string;
  path: string;
  rawPath: string;
  query: URLSearchParams;
}

/** `{account}.blob.{suffix}` or `{account}.file.{suffix}`, with a port or not: the account named the way Azure spells its URLs. */
const HOST_STYLE = /^([a-z0-9]{3,24})\.(blob|file)\.[a-z0-9.-]+(?::\d+)?$/i;

/**
 * The account a Host header names for `service`, as in Azure's
 * `https://{account}.blob.core.windows.net` (and, locally, `{account}.blob.localhost`);
 * undefined for any other host, whose URLs name the account in their path.
 */
export function hostAccount(host: string | undefined, service: StorageService): string | undefined {
  const named = hostStyle(host);
  return named?.service === service ? named.account : undefined;
}

/** The account and service a host-style Host header names; undefined for any other host. */
export function hostStyle(host: string | undefined): { account: string; service: StorageService } | undefined {
  const match = host === undefined ? null : HOST_STYLE.exec(host);
  return match ? { account: match[1]!.toLowerCase(), service: match[2]!.toLowerCase() as StorageService } : undefined;
}

/**
 * Splits a request URL: path-style `/{account}/{container}/{path...}?query`, or
 * `/{container}/{path...}?query` when the host named the account. Only the first
 * separators split: everything after the container is the blob or file path,
 * decoded once, exactly as Azure reads it. `rawPath` is the path as sent, which
 * Shared Key signs after `/{account}`.
 */
export function parseStorageUrl(url: string, accountFromHost?: string): ParsedUrl {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
  // No parameter value holds a NUL (and PostgreSQL text cannot even be compared with one): refused before anything reads it.
  if (q !== -1 && url.includes('%00', q)) {
    for (const [name, value] of query) if (value.includes('\u0000')) throw errors.invalidQuery(name, 'it holds a NUL character.');
  }
  const accountEnd = accountFromHost === undefined ? indexOrEnd(rawPath, '/', 1) : 0;
  const containerEnd = indexOrEnd(rawPath, '/', accountEnd + 1);
  return {
    account: accountFromHost ?? decode(rawPath.slice(1, accountEnd)),
    container: decode(rawPath.slice(accountEnd + 1, containerEnd)),
    path: decode(rawPath.slice(containerEnd + 1)),
    rawPath,
    query,
  };
}

function indexOrEnd(text: string, char: string, from: number): number {
  const index = text.indexOf(char, from);
  return index === -1 ? text.length : index;
}

function decode(segment: string): string {
  if (segment.indexOf('%') === -1) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw errors.invalidUri(`'${segment}' is not valid percent-encoded UTF-8; encode reserved characters of names with encodeURIComponent.`);
  }
}

/**
 * A URL of this same endpoint (a copy source), parsed as a request to it would
 * be: on the host the request came to, or on a host-style name for an account
 * at the same port. Undefined for a URL of another server.
 */
export function parseLocalUrl(url: URL, requestHost: string | undefined, service: StorageService): ParsedUrl | undefined {
  const account = hostAccount(url.host, service);
  const samePort = requestHost !== undefined && url.port === (/:(\d+)$/.exec(requestHost)?.[1] ?? '');
  if (url.host !== requestHost && !(account !== undefined && samePort)) return undefined;
  return parseStorageUrl(url.pathname + url.search, account);
}
