import net from 'node:net';
import tls from 'node:tls';

/** A connection opened by hand, for requests no client would send: stalled bodies, dot segments, partial headers. */
export interface RawConnection {
  socket: net.Socket;
  /** Everything the server sent, once it closed the connection, and how long after opening that was. */
  closed: Promise<{ data: string; afterMs: number }>;
}

/** Opens a connection to an http:// or https:// endpoint (https trusting `ca`) and writes `text`. */
export function rawConnection(endpoint: string, text: string | Buffer, ca?: string): RawConnection {
  const url = new URL(endpoint);
  const started = Date.now();
  const port = Number(url.port);
  const socket =
    url.protocol === 'https:'
      ? tls.connect({ port, host: url.hostname, ca, servername: url.hostname === '127.0.0.1' ? undefined : url.hostname }, () => socket.write(text))
      : net.connect(port, url.hostname, () => socket.write(text));
  let data = '';
  socket.on('data', (chunk) => (data += chunk));
  const closed = new Promise<{ data: string; afterMs: number }>((resolve) => {
    socket.on('error', () => {});
    socket.on('close', () => resolve({ data, afterMs: Date.now() - started }));
  });
  return { socket, closed };
}

/** Sends one request by hand and resolves with the raw answer once the server closes (send `Connection: close`). */
export async function rawRequest(endpoint: string, text: string | Buffer, ca?: string): Promise<string> {
  return (await rawConnection(endpoint, text, ca).closed).data;
}
