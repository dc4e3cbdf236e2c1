import net from 'node:net';
import tls from 'node:tls';

/** A request as the fuzzer writes it: every byte is ours, so it can be what no client library would send. */
export interface RawRequest {
  method: string;
  /** Path and query, exactly as written on the request line (may hold invalid UTF-8 as latin1 bytes). */
  target: string;
  headers: [string, string][];
  body?: Buffer;
  /** A Content-Length that differs from the body's (the body is then cut or padded on the wire as sent). */
  declaredLength?: number;
}

const CUT_SHORT_WAIT_MS = 300;

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends one request on a fresh connection and reads the answer. Undefined means
 * the server closed the connection without answering, which is right only for
 * a request whose body was cut short.
 */
export function sendRaw(endpoint: URL, request: RawRequest, ca?: string, timeoutMs = 15_000): Promise<RawResponse | undefined> {
  const body = request.body ?? Buffer.alloc(0);
  const length = request.declaredLength ?? body.length;
  let head = `${request.method} ${request.target} HTTP/1.1\r\nHost: ${endpoint.host}\r\nConnection: close\r\n`;
  for (const [name, value] of request.headers) head += `${name}: ${value}\r\n`;
  if (length > 0 || request.method === 'PUT' || request.method === 'POST') head += `Content-Length: ${length}\r\n`;
  const wire = Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]);
  // A body shorter than its Content-Length leaves the server waiting: give it a moment to answer early (a refusal), then hang up.
  const cutShort = length > body.length;
  return new Promise((resolve, reject) => {
    const port = Number(endpoint.port);
    // Written, not half-closed: Node drops the answer to a request whose client half-closed before it was ready.
    const send = () => {
      socket.write(wire);
      if (cutShort) setTimeout(() => socket.destroy(), CUT_SHORT_WAIT_MS);
    };
    const socket = endpoint.protocol === 'https:' ? tls.connect({ port, host: endpoint.hostname, ca }, send) : net.connect(port, endpoint.hostname, send);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const data = Buffer.concat(chunks);
      resolve(data.length === 0 ? undefined : parseResponse(data, request.method));
    });
  });
}

function parseResponse(data: Buffer, method: string): RawResponse {
  const end = data.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = data.subarray(0, end < 0 ? data.length : end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = end < 0 || method === 'HEAD' ? Buffer.alloc(0) : data.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status, headers, body: body.toString('utf8') };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
