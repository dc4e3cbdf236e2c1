import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { readSmallBody } from '../http/body.js';
import { StorageError, errors } from '../http/errors.js';
import { hostAccount, parseStorageUrl } from '../http/request-url.js';
import { writeHead } from '../http/respond.js';
import type { BlobRequest } from './deps.js';

/**
 * Blob Batch (`POST ?comp=batch`, multipart/mixed): up to 256 Delete Blob or
 * Set Blob Tier sub-requests, all of one kind. Each sub-request goes through the
 * same pipeline as a request of its own (its own authorization, conditions and
 * errors), so a batch can do nothing its sub-requests could not do one by one;
 * the answer frames each sub-response, success or error, as Azure does.
 */

const MAX_SUB_REQUESTS = 256;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

interface SubRequest {
  contentId: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

const invalidBatch = (why: string) => new StorageError(400, 'InvalidInput', `One of the request inputs is not valid: ${why}`);

function batchBoundary(contentType: string | undefined): string {
  const match = /^multipart\/mixed\s*;\s*boundary=("?)([^";]+)\1\s*$/i.exec(contentType ?? '');
  if (!match) throw errors.invalidHeader('Content-Type', 'a batch is sent as multipart/mixed; boundary=batch_<id>.');
  return match[2]!;
}

/** Splits the body at the boundary and reads each part's HTTP request: its line, its headers, and no body. */
function parseBatch(body: string, boundary: string): SubRequest[] {
  const delimiter = `--${boundary}`;
  const end = body.indexOf(`${delimiter}--`);
  if (end < 0) throw invalidBatch(`the body does not end with the closing delimiter '${delimiter}--'.`);
  const parts = body.slice(0, end).split(delimiter).slice(1);
  return parts.map((part, index) => {
    const [mimeHeaders = '', message = ''] = splitOnce(part.replace(/^\r\n/, ''), '\r\n\r\n');
    const contentId = /^content-id:\s*(.+)$/im.exec(mimeHeaders)?.[1]?.trim() ?? String(index);
    if (!/^content-type:\s*application\/http\s*$/im.test(mimeHeaders)) throw invalidBatch(`part ${index} is not Content-Type: application/http.`);
    const [head = '', rest = ''] = splitOnce(message, '\r\n\r\n');
    const [requestLine = '', ...headerLines] = head.split('\r\n');
    const line = /^([A-Z]+) (\S+) HTTP\/1\.1$/.exec(requestLine);
    if (!line) throw invalidBatch(`part ${index} does not start with a request line such as 'DELETE /account/container/blob HTTP/1.1'.`);
    const headers: IncomingHttpHeaders = {};
    for (const headerLine of headerLines) {
      const colon = headerLine.indexOf(':');
      if (colon <= 0) throw invalidBatch(`part ${index} has a malformed header line.`);
      headers[headerLine.slice(0, colon).trim().toLowerCase()] = headerLine.slice(colon + 1).trim();
    }
    const declared = headers['content-length'];
    if (rest.trim() !== '' || headers['transfer-encoding'] !== undefined || (declared !== undefined && declared !== '0')) {
      throw invalidBatch(`part ${index} has a body; batch sub-requests (Delete Blob, Set Blob Tier) carry none.`);
    }
    return { contentId, method: line[1]!, url: line[2]!, headers };
  });
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + separator.length)];
}

/** What kind of sub-request this is, if a batch may hold it. */
function kindOf(method: string, query: URLSearchParams): 'delete' | 'tier' | undefined {
  if (method === 'DELETE' && !query.has('comp')) return 'delete';
  if (method === 'PUT' && query.get('comp') === 'tier') return 'tier';
  return undefined;
}

/** The answer a sub-request gets, caught instead of written to a socket. */
class CapturedResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  private readonly headers: OutgoingHttpHeaders = {};
  private readonly chunks: Buffer[] = [];
  readonly done: Promise<string>;
  private finish!: (framed: string) => void;

  constructor(readonly req: IncomingMessage) {
    super();
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  setHeader(name: string, value: string | number | string[]): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  getHeader(name: string) {
    return this.headers[name.toLowerCase()];
  }

  writeHead(status: number, headers: OutgoingHttpHeaders = {}): this {
    this.statusCode = status;
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) this.setHeader(name, value);
    this.headersSent = true;
    return this;
  }

  write(chunk: string | Buffer): boolean {
    this.chunks.push(Buffer.from(chunk));
    return true;
  }

  end(chunk?: string | Buffer): this {
    if (chunk !== undefined) this.write(chunk);
    const lines = [`HTTP/1.1 ${this.statusCode} ${STATUS_CODES[this.statusCode] ?? ''}`];
    for (const [name, value] of Object.entries(this.headers)) lines.push(`${name}: ${Array.isArray(value) ? value.join(', ') : String(value)}`);
    this.finish(`${lines.join('\r\n')}\r\n\r\n${Buffer.concat(this.chunks).toString('utf8')}`);
    this.emit('close');
    return this;
  }

  destroy(): this {
    return this.end();
  }
}

function runSubRequest(run: Listener, outer: IncomingMessage, sub: SubRequest): Promise<string> {
  const req = Object.assign(Readable.from([]), {
    method: sub.method,
    url: sub.url,
    // A sub-request is addressed to the batch's host, which may be the one that names the account.
    headers: { host: outer.headers.host, ...sub.headers },
    socket: outer.socket,
    complete: true,
    httpVersion: '1.1',
  }) as unknown as IncomingMessage;
  const res = new CapturedResponse(req);
  run(req, res as unknown as ServerResponse);
  return res.done;
}

/** The batch handler, given the service's own request listener to run each sub-request through. */
export function makeBlobBatch(run: () => Listener) {
  return async function blobBatch(ctx: BlobRequest): Promise<void> {
    const boundary = batchBoundary(ctx.req.headers['content-type']);
    const body = (await readSmallBody(ctx.req, MAX_BATCH_BYTES)).toString('utf8');
    const subRequests = parseBatch(body, boundary);
    if (subRequests.length === 0) throw invalidBatch('the batch holds no sub-requests.');
    if (subRequests.length > MAX_SUB_REQUESTS) {
      throw new StorageError(400, 'ExceedsMaxBatchRequestCount', `The batch operation exceeds the maximum number of sub-requests (${MAX_SUB_REQUESTS}); it has ${subRequests.length}.`);
    }
    const targets = subRequests.map((sub) => parseStorageUrl(sub.url, hostAccount(ctx.req.headers.host, 'blob')));
    const kinds = new Set(subRequests.map((sub, index) => kindOf(sub.method, targets[index]!.query)));
    if (kinds.has(undefined)) throw invalidBatch('a batch may hold only Delete Blob (DELETE) and Set Blob Tier (PUT ?comp=tier) sub-requests.');
    if (kinds.size > 1) throw new StorageError(400, 'AllBatchSubRequestsShouldBeSameApi', 'All batch sub-requests should be the same API: send deletions and tier changes in separate batches.');
    targets.forEach((target, index) => {
      if (target.account !== ctx.account || (ctx.container !== '' && target.container !== ctx.container)) {
        throw invalidBatch(`the sub-request for '${subRequests[index]!.url.split('?')[0]}' is outside ${ctx.container ? `container '${ctx.container}'` : `account '${ctx.account}'`}.`);
      }
    });
    const answers = await Promise.all(subRequests.map((sub) => runSubRequest(run(), ctx.req, sub)));
    const responseBoundary = `batchresponse_${randomUUID()}`;
    const framed =
      answers.map((answer, index) => `--${responseBoundary}\r\nContent-Type: application/http\r\nContent-ID: ${subRequests[index]!.contentId}\r\n\r\n${answer}\r\n`).join('') +
      `--${responseBoundary}--\r\n`;
    writeHead(ctx, 202, { 'content-type': `multipart/mixed; boundary=${responseBoundary}`, 'content-length': Buffer.byteLength(framed) });
    ctx.res.end(framed);
  };
}
