import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` (Vite) puts the console: dist/console, beside this compiled file's tree. */
const ROOT = fileURLToPath(new URL('../../console/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * Only the console's own files, scripts and styles, and no framing by another
 * site. The page may connect to its own origin, and to the Blob and File TLS
 * ports at the host name it was reached by, which its storage browser calls.
 */
function securityHeaders(req: IncomingMessage, dataPorts: DataPorts): Record<string, string> {
  const host = /^([a-z0-9.-]+|\[[0-9a-f:.]+\])(:\d+)?$/i.exec(req.headers.host ?? '')?.[1];
  const data = host ? ` https://${host}:${dataPorts.blob} https://${host}:${dataPorts.file}` : '';
  return { 'content-security-policy': `${CSP}; connect-src 'self'${data}`, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
}

export interface DataPorts {
  blob: number;
  file: number;
}

/**
 * Serves the console's static files on the management port: `/` and
 * `/console` lead to `/console/`; a path with no file of its own is one of the
 * app's pages (index.html); hashed assets are cached for good. Returns false
 * for requests that are not the console's (ARM routes, and /console/api/).
 */
export function serveConsole(req: IncomingMessage, res: ServerResponse, pathname: string, dataPorts: DataPorts): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (pathname === '/' || pathname === '/console') {
    res.writeHead(302, { location: '/console/', 'content-length': 0 }).end();
    return true;
  }
  if (!pathname.startsWith('/console/') || pathname.startsWith('/console/api/')) return false;
  const relative = path.normalize(decodeURIComponent(pathname.slice('/console/'.length)));
  const headers = securityHeaders(req, dataPorts);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return notFound(res, headers);
  let file = path.join(ROOT, relative);
  let size = fileSize(file);
  if (size === undefined) {
    // An asset that is not there is a 404; any other path is a page of the app.
    if (relative.startsWith('assets') || path.extname(relative) !== '') return notFound(res, headers);
    file = path.join(ROOT, 'index.html');
    size = fileSize(file);
    if (size === undefined) return notFound(res, headers, 'The console is not built here: run npm run build (npm ci does it).');
  }
  const immutable = relative.startsWith(`assets${path.sep}`);
  res.writeHead(200, {
    ...headers,
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': size,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (req.method === 'HEAD') res.end();
  else fs.createReadStream(file).pipe(res);
  return true;
}

/** A regular file's size; undefined for anything else or nothing. */
function fileSize(file: string): number | undefined {
  try {
    const stat = fs.statSync(file);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}

function notFound(res: ServerResponse, headers: Record<string, string>, message = 'No such console file.'): true {
  res.writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(message) }).end(message);
  return true;
}
