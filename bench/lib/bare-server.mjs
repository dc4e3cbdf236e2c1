// The ceiling every scenario is measured against: a bare node:http server that
// answers as a Blob service would, headers included, but stores nothing and
// checks nothing. What limits it is the client and the machine, so its figure
// shows how much of the achievable rate a server reaches. Run as a child
// process; prints its URL.
//   PUT (any)             read the body, 201
//   GET/HEAD .../large-N  N bytes, honouring x-ms-range (the transfer scenario)
//   GET/HEAD anything     the 1 KiB SMALL_BODY
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { SMALL_BODY, SMALL_BODY_MD5 } from './payload.mjs';

const lastModified = new Date().toUTCString();
/** Large bodies are this chunk over and over: nothing to allocate or read while a download is timed. */
const CHUNK = Buffer.alloc(1024 * 1024, 0x5a);

function commonHeaders() {
  return {
    etag: '"0x8DC0000000000000"',
    'last-modified': lastModified,
    // Per request, as a storage server must; Node adds Date itself.
    'x-ms-request-id': randomUUID(),
    'x-ms-version': '2025-11-05',
  };
}

function blobHeaders() {
  return {
    ...commonHeaders(),
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
    'x-ms-blob-type': 'BlockBlob',
    'x-ms-lease-status': 'unlocked',
    'x-ms-lease-state': 'available',
    'x-ms-server-encrypted': 'true',
  };
}

function put(req, res) {
  req.resume();
  req.on('end', () => {
    res.writeHead(201, { ...commonHeaders(), 'content-length': 0, 'x-ms-request-server-encrypted': 'true' });
    res.end();
  });
}

function getLarge(req, res, size) {
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers['x-ms-range'] ?? req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  const end = range?.[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
  const headers = { ...blobHeaders(), 'content-length': end - start + 1 };
  if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method !== 'HEAD') {
    for (let left = end - start + 1; left > 0; left -= CHUNK.length) res.write(left < CHUNK.length ? CHUNK.subarray(0, left) : CHUNK);
  }
  res.end();
}

function getSmall(req, res) {
  res.writeHead(200, { ...blobHeaders(), 'content-length': SMALL_BODY.length, 'content-md5': SMALL_BODY_MD5 });
  res.end(req.method === 'HEAD' ? undefined : SMALL_BODY);
}

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.method === 'PUT') return put(req, res);
  const size = /\/large-(\d+)(?:\?|$)/.exec(req.url)?.[1];
  if (size) return getLarge(req, res, Number(size));
  getSmall(req, res);
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`bare node:http listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
