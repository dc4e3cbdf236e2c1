import path from 'node:path';

/**
 * The content types az guesses from a file's extension when uploading
 * (Python's mimetypes, plus the three az adds), for the extensions data and
 * web files commonly have. Others are left to the service's default,
 * application/octet-stream, as mimetypes leaves them.
 */
const BY_EXTENSION: Record<string, string> = {
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.csv': 'text/csv',
  '.tsv': 'text/tab-separated-values',
  '.md': 'text/markdown',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.css': 'text/css',
  '.xml': 'text/xml',
  '.js': 'application/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.py': 'text/x-python',
  '.sh': 'application/x-sh',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
  '.ico': 'image/vnd.microsoft.icon',
  '.mp4': 'video/mp4',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/x-wav',
};

export function guessContentType(file: string): string | undefined {
  return BY_EXTENSION[path.extname(file).toLowerCase()];
}
