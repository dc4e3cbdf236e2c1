import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { StorageRequest, StorageService } from '../../../src/storage/http/context.js';
import { StorageError } from '../../../src/storage/http/errors.js';
import type { AccessPolicyLookup, AccountKeys, OperationAccess } from '../../../src/storage/auth/types.js';

export const ACCOUNT = 'devstoreaccount1';
/** The well-known Azurite key, and a second key as the key ring holds it. */
export const KEY1 = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
export const KEY2 = 'c2Vjb25kLWtleS1mb3ItbWxzcGFjZS10ZXN0cy1vbmx5LW5vdC1hLXJlYWwta2V5LXNlY29uZA==';
export const WRONG_KEY = Buffer.alloc(64, 7).toString('base64');

export const accountKeys = (allowSharedKeyAccess = true): AccountKeys => ({
  account: ACCOUNT,
  keys: [Buffer.from(KEY1, 'base64'), Buffer.from(KEY2, 'base64')],
  allowSharedKeyAccess,
  defaultAccessTier: 'Hot',
});

export const READ_BLOB: OperationAccess = { permissions: 'r', resourceType: 'o', scope: 'object' };
export const WRITE_BLOB: OperationAccess = { permissions: 'cw', resourceType: 'o', scope: 'object' };
export const LIST_BLOBS: OperationAccess = { permissions: 'l', resourceType: 'c', scope: 'container' };
export const LIST_CONTAINERS: OperationAccess = { permissions: 'l', resourceType: 's', scope: 'service' };

export const noPolicies: AccessPolicyLookup = () => undefined;

export interface CapturedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface RequestOptions {
  service?: StorageService;
  protocol?: 'http' | 'https';
  remoteAddress?: string;
}

/** A StorageRequest for a path-style URL (`/account/container/path?query`), as the router would build it. */
export function storageRequest(captured: CapturedRequest, options: RequestOptions = {}): StorageRequest {
  const url = new URL(captured.url, 'http://127.0.0.1');
  const [account = '', container = '', ...path] = url.pathname.slice(1).split('/');
  const req = { method: captured.method, headers: captured.headers, socket: { remoteAddress: options.remoteAddress ?? '127.0.0.1' } };
  return {
    req: req as unknown as IncomingMessage,
    res: undefined as never,
    requestId: 'test',
    service: options.service ?? 'blob',
    protocol: options.protocol ?? 'http',
    account: decodeURIComponent(account),
    container: decodeURIComponent(container),
    path: decodeURIComponent(path.join('/')),
    rawPath: url.pathname,
    query: url.searchParams,
  };
}

/** A GET with no headers, as a browser following a SAS URL sends it. */
export function sasRequest(pathAndQuery: string, options: RequestOptions & { method?: string } = {}): StorageRequest {
  return storageRequest({ method: options.method ?? 'GET', url: pathAndQuery, headers: { host: '127.0.0.1' } }, options);
}

/**
 * Runs `send` (an official SDK call) against a server on 127.0.0.1:0 that records
 * the request and answers 403, so the SDK gives up at once, and returns what it sent.
 */
export async function captureRequest(send: (endpoint: string) => Promise<unknown>): Promise<CapturedRequest> {
  let captured: CapturedRequest | undefined;
  const server = createServer((req, res) => {
    captured ??= { method: req.method!, url: req.url!, headers: req.headers };
    req.resume();
    req.on('end', () => {
      res.writeHead(403, { 'content-type': 'application/xml', 'x-ms-error-code': 'AuthenticationFailed' });
      res.end('<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>captured</Message></Error>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await send(`http://127.0.0.1:${port}/${ACCOUNT}`).catch(() => undefined);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  if (!captured) throw new Error('the SDK sent no request');
  return captured;
}

export const minutesFromNow = (minutes: number): Date => new Date(Date.now() + minutes * 60_000);

/** Runs `attempt` and returns the StorageError it throws (or rejects with), failing the test if it succeeds. */
export async function refusal(attempt: () => unknown): Promise<StorageError> {
  const outcome = await Promise.resolve()
    .then(attempt)
    .then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a refusal, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(StorageError);
  return outcome.error as StorageError;
}

/** Everything a refusal tells the client. */
export const errorText = (error: StorageError): string => `${error.code} ${error.message} ${Object.values(error.details).join(' ')}`;
