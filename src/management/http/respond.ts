import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ArmError } from './errors.js';

function standardHeaders(req: IncomingMessage, requestId: string): Record<string, string> {
  const headers: Record<string, string> = {
    'x-ms-request-id': requestId,
    'x-ms-correlation-request-id': (req.headers['x-ms-correlation-request-id'] as string | undefined) ?? requestId,
    'cache-control': 'no-cache',
  };
  const clientRequestId = req.headers['x-ms-client-request-id'];
  if (typeof clientRequestId === 'string') headers['x-ms-client-request-id'] = clientRequestId;
  return headers;
}

export function sendJson(req: IncomingMessage, res: ServerResponse, requestId: string, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const headers = { ...standardHeaders(req, requestId), ...extra };
  if (body === undefined || req.method === 'HEAD') {
    res.writeHead(status, { ...headers, 'content-length': 0 });
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendArmError(req: IncomingMessage, res: ServerResponse, requestId: string, error: ArmError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(req, res, requestId, error.status, { error: { code: error.code, message: error.message } }, error.headers);
}
