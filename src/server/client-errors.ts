import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { STORAGE_API_VERSION, StorageError, storageErrorBody } from '../storage/http/errors.js';

interface Refusal {
  status: number;
  code: string;
  message: string;
}

/** What Node's HTTP parser refused, said as a client can act on it. Its reasons name the rule, never the bytes sent. */
function refusalOf(error: Error & { code?: string; reason?: string }): Refusal {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, code: 'RequestHeaderFieldsTooLarge', message: 'The request headers are too large; send fewer or shorter headers.' };
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, code: 'RequestTimeout', message: 'The request did not arrive in time; the connection is closed.' };
  }
  const reason = (error.reason ?? error.message).replace(/[^\x20-\x7e]/g, '');
  return { status: 400, code: 'InvalidInput', message: `The request is not valid HTTP/1.1 (${reason}); check the request line and header names and values.` };
}

type Render = (refusal: Refusal, requestId: string) => { contentType: string; body: string; headers?: string };

const renderStorage: Render = (refusal, requestId) => ({
  contentType: 'application/xml',
  body: storageErrorBody(new StorageError(refusal.status, refusal.code, refusal.message), requestId),
  headers: `x-ms-error-code: ${refusal.code}\r\nx-ms-version: ${STORAGE_API_VERSION}\r\n`,
});

const renderArm: Render = (refusal) => ({
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify({ error: { code: refusal.code, message: refusal.message } }),
});

/**
 * Requests Node cannot parse (bad request lines, header bytes, oversized
 * headers) never reach a handler; by default Node answers them with a bare
 * status. Each plane answers them in its own error shape instead, so every
 * refusal a client sees reads the same way. An `Expect` other than
 * 100-continue, which Node would refuse with a bare 417, is ignored (as HTTP
 * allows) and the request served.
 */
export function answerClientErrors(server: Server, plane: 'storage' | 'arm'): void {
  const refused = new WeakSet<Duplex>();
  const render = plane === 'storage' ? renderStorage : renderArm;
  server.on('checkExpectation', (req, res) => server.emit('request', req, res));
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    // Node's parser stays attached and reports each later chunk of a refused request again: the refusal is on
    // its way and the connection is lingering (see lingerThenClose); destroying it now would reset the answer away.
    if (refused.has(socket)) return;
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const refusal = refusalOf(error);
    const requestId = randomUUID();
    const { contentType, body, headers = '' } = render(refusal, requestId);
    socket.end(
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `x-ms-request-id: ${requestId}\r\n${headers}Connection: close\r\n\r\n${body}`,
    );
    refused.add(socket);
    lingerThenClose(socket);
  });
}

/** How long a refused connection's remaining request bytes are read and dropped before it is closed. */
const LINGER_MS = 2000;

/**
 * A client may still be sending the refused request's body. Closing at once
 * would make the kernel answer those bytes with a reset, which can destroy the
 * refusal before the client reads it; so the rest is read and dropped, briefly.
 */
function lingerThenClose(socket: Duplex): void {
  socket.on('data', () => {});
  socket.on('error', () => socket.destroy());
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
