// The ceiling every scenario is measured against: a bare node:http server that
// answers as a Blob or File service would, headers included, but stores nothing
// and checks nothing. What limits it is the client and the machine, so its figure
// shows how much of the achievable rate a server reaches. Run as a child process;
// listens on one port per service, as mlspace does, and prints both URLs.
//   PUT ?comp=lease       answer the lease action (acquire 201, break 202, the rest 200) with the proposed or sent lease id
//   PUT (any other)       read the body, 201 (Put Blob, Create File, Put Range, create share...)
//   GET/HEAD .../large-N  N bytes, honouring x-ms-range (the transfer scenarios)
//   GET/HEAD anything     the 1 KiB SMALL_BODY
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { SMALL_BODY, SMALL_BODY_MD5 } from './payload.mjs';

const lastModified = new Date().toUTCString();
/** Large bodies are this chunk over and over: nothing to allocate or read while a download is timed. */
const CHUNK = Buffer.alloc(1024 * 1024, 0x5a);

/** The SMB properties mlspace and Azure Files return when a file is created or read; fixed, since nothing is stored. */
const fileTime = new Date().toISOString().replace('Z', '0000Z');
const FILE_PROPERTIES = {
  'x-ms-file-attributes': 'Archive',
  'x-ms-file-creation-time': fileTime,
  'x-ms-file-last-write-time': fileTime,
  'x-ms-file-change-time': fileTime,
  'x-ms-file-permission-key': '1913615207461595042*11871058040638250316',
  'x-ms-file-id': '2',
  'x-ms-file-parent-id': '1',
};

const READ_HEADERS = {
  'content-type': 'application/octet-stream',
  'accept-ranges': 'bytes',
  'x-ms-lease-status': 'unlocked',
  'x-ms-lease-state': 'available',
  'x-ms-server-encrypted': 'true',
};

/** Per service, the headers mlspace adds to an upload's answer, to a read's, and to a read of the 1 KiB body. */
const HEADERS = {
  blob: {
    put: { 'x-ms-request-server-encrypted': 'true' },
    read: { ...READ_HEADERS, 'x-ms-blob-type': 'BlockBlob' },
    // Put Blob stores the body's MD5; a file written by ranges has none.
    small: { 'content-md5': SMALL_BODY_MD5 },
  },
  file: {
    put: { ...FILE_PROPERTIES, 'x-ms-request-server-encrypted': 'true' },
    read: { ...READ_HEADERS, ...FILE_PROPERTIES, 'x-ms-type': 'File' },
    small: {},
  },
};

function commonHeaders() {
  return {
    etag: '"0x8DC0000000000000"',
    'last-modified': lastModified,
    // Per request, as a storage server must; Node adds Date itself.
    'x-ms-request-id': randomUUID(),
    'x-ms-version': '2025-11-05',
  };
}

function put(req, res, headers) {
  req.resume();
  req.on('end', () => {
    res.writeHead(201, { ...commonHeaders(), ...headers.put, 'content-length': 0 });
    res.end();
  });
}

const LEASE_STATUS = { acquire: 201, break: 202 };

function lease(req, res) {
  req.resume();
  req.on('end', () => {
    const id = req.headers['x-ms-proposed-lease-id'] ?? req.headers['x-ms-lease-id'];
    const answer = { ...commonHeaders(), 'content-length': 0 };
    if (id !== undefined) answer['x-ms-lease-id'] = id;
    res.writeHead(LEASE_STATUS[req.headers['x-ms-lease-action']] ?? 200, answer);
    res.end();
  });
}

function getLarge(req, res, headers, size) {
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers['x-ms-range'] ?? req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  const end = range?.[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
  const answer = { ...commonHeaders(), ...headers.read, 'content-length': end - start + 1 };
  if (range) answer['content-range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(range ? 206 : 200, answer);
  if (req.method !== 'HEAD') {
    for (let left = end - start + 1; left > 0; left -= CHUNK.length) res.write(left < CHUNK.length ? CHUNK.subarray(0, left) : CHUNK);
  }
  res.end();
}

function getSmall(req, res, headers) {
  res.writeHead(200, { ...commonHeaders(), ...headers.read, ...headers.small, 'content-length': SMALL_BODY.length });
  res.end(req.method === 'HEAD' ? undefined : SMALL_BODY);
}

function listen(service) {
  const headers = HEADERS[service];
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (req.method === 'PUT') return /[?&]comp=lease(?:&|$)/.test(req.url) ? lease(req, res) : put(req, res, headers);
    const size = /\/large-(\d+)(?:\?|$)/.exec(req.url)?.[1];
    if (size) return getLarge(req, res, headers, Number(size));
    getSmall(req, res, headers);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const servers = { blob: await listen('blob'), file: await listen('file') };
const url = (server) => `http://127.0.0.1:${server.address().port}`;
process.stdout.write(`bare node:http listening: blob on ${url(servers.blob)}, file on ${url(servers.file)}\n`);
process.on('SIGTERM', async () => {
  await Promise.all(Object.values(servers).map((server) => new Promise((resolve) => server.close(resolve))));
  process.exit(0);
});
