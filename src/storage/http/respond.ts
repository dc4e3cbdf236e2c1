import type { OutgoingHttpHeaders } from 'node:http';
import type { StorageRequest } from './context.js';
import { STORAGE_API_VERSION, errors, sendStorageError } from './errors.js';
import { httpDate } from './headers.js';

/** Writes the status line and the headers every data-plane response carries, plus the operation's own. */
export function writeHead(ctx: StorageRequest, status: number, headers: OutgoingHttpHeaders): void {
  headers['x-ms-request-id'] = ctx.requestId;
  headers['x-ms-version'] = STORAGE_API_VERSION;
  headers['date'] = httpDate(Math.floor(Date.now() / 1000) * 1000);
  const clientRequestId = ctx.req.headers['x-ms-client-request-id'];
  if (clientRequestId !== undefined) headers['x-ms-client-request-id'] = clientRequestId;
  ctx.res.writeHead(status, headers);
}

/** A response with no body (most writes). */
export function respondEmpty(ctx: StorageRequest, status: number, headers: OutgoingHttpHeaders = {}): void {
  headers['content-length'] = 0;
  acknowledge(ctx, status, headers, undefined);
}

export function respondXml(ctx: StorageRequest, status: number, xml: string, headers: OutgoingHttpHeaders = {}): void {
  headers['content-type'] = 'application/xml';
  headers['content-length'] = Buffer.byteLength(xml);
  acknowledge(ctx, status, headers, ctx.req.method === 'HEAD' ? undefined : xml);
}

/** Answers a read at once; a write only once what it committed is on disk (or 500 if the disk failed). */
function acknowledge(ctx: StorageRequest, status: number, headers: OutgoingHttpHeaders, body: string | undefined): void {
  const send = () => {
    writeHead(ctx, status, headers);
    ctx.res.end(body);
  };
  if (ctx.req.method === 'GET' || ctx.req.method === 'HEAD') return send();
  ctx.durable().then(send, (error: unknown) => sendStorageError(ctx.res, errors.internal(error), ctx.requestId));
}
