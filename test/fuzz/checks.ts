import type { RawRequest, RawResponse } from './raw-http.js';

/** One fuzz exchange: how to send it, and how to read the state of what it acts on. */
export interface Exchange {
  plane: 'storage' | 'arm';
  request: RawRequest;
  send(): Promise<RawResponse | undefined>;
  /** A trusted reading of the resource the request acts on; compared before and after a refused write. */
  state(): Promise<string>;
}

const WRITES = new Set(['PUT', 'POST', 'DELETE', 'PATCH', 'MERGE']);
const STORAGE_ERROR = /^<\?xml version="1\.0" encoding="utf-8"\?><Error><Code>([A-Za-z0-9]+)<\/Code><Message>[^<]+<\/Message>/;

/**
 * Sends the exchange and says what is wrong with the answer, or undefined: no
 * 5xx; every refusal in its plane's error shape with a request id; a refused
 * write changes nothing; the connection is closed unanswered only when the
 * request itself broke off (a body shorter than its Content-Length).
 */
export async function checkExchange(exchange: Exchange): Promise<string | undefined> {
  const { request } = exchange;
  const write = WRITES.has(request.method);
  const before = write ? await exchange.state() : undefined;
  const response = await exchange.send();
  const cutShort = request.declaredLength !== undefined && request.declaredLength > (request.body?.length ?? 0);
  if (response === undefined) return cutShort ? undefined : 'the server closed the connection without an answer';
  if (!(response.status >= 100 && response.status < 500)) return `answered ${response.status}: ${response.body.slice(0, 300)}`;
  if (response.status >= 400) {
    const shape = exchange.plane === 'storage' ? storageShapeProblem(response, request.method) : armShapeProblem(response, request.method);
    if (shape) return `answered ${response.status} ${shape}: ${response.body.slice(0, 300)}`;
    if (write) {
      const after = await exchange.state();
      if (after !== before) return `a refused ${request.method} (${response.status}) changed what it acts on:\n  before: ${before}\n  after:  ${after}`;
    }
  }
  return undefined;
}

function storageShapeProblem(response: RawResponse, method: string): string | undefined {
  const code = response.headers['x-ms-error-code'];
  if (!code) return 'without x-ms-error-code';
  if (!response.headers['x-ms-request-id']) return 'without x-ms-request-id';
  if (method === 'HEAD') return undefined;
  const match = STORAGE_ERROR.exec(response.body);
  if (!match) return 'without an Azure XML error body';
  return match[1] === code ? undefined : `with code ${match[1]} in the body but ${code} in x-ms-error-code`;
}

function armShapeProblem(response: RawResponse, method: string): string | undefined {
  if (!response.headers['x-ms-request-id']) return 'without x-ms-request-id';
  if (method === 'HEAD') return undefined;
  try {
    const { error } = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof error?.code === 'string' && typeof error.message === 'string' && error.message.length > 0) return undefined;
  } catch {
    // reported below
  }
  return 'without an ARM error body {"error":{"code","message"}}';
}
