import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { errors } from './errors.js';
import { checkMd5Format, contentLength } from './headers.js';

/** Reads a small request body (XML documents) whole, refusing more than `max` bytes and checking Content-MD5. */
export async function readSmallBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const length = req.headers['content-length'] === undefined ? undefined : contentLength(req.headers, max);
  const body = await collect(req, max);
  if (length !== undefined && body.length !== length) throw errors.invalidHeader('Content-Length', 'the body is shorter than Content-Length.');
  const md5 = req.headers['content-md5'] as string | undefined;
  if (md5 !== undefined && !checkMd5Format(md5).equals(createHash('md5').update(body).digest())) throw errors.md5Mismatch();
  return body;
}

/**
 * The whole body, from 'data' events: an async iterator over the request costs
 * more than the read itself for the few-KiB bodies of appends and small puts.
 */
function collect(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
      else {
        req.off('data', onData);
        reject(errors.requestBodyTooLarge(max));
      }
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    // A client that goes away mid-body ends nothing: the request is aborted and closes.
    req.once('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection before the body ended'));
    });
  });
}

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true, processEntities: true });
const orderedParser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true, preserveOrder: true });
// For documents whose values may be whitespace themselves (a query's record separator, '\n').
const untrimmedParser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: false, processEntities: true });

/** No request body Azure takes declares a document type; a DOCTYPE or ENTITY could only expand or fetch what we never want. */
const DECLARATION = /<!\s*(DOCTYPE|ENTITY)/i;

/**
 * Parses an XML request body. A document that is not well-formed, declares a
 * DOCTYPE or entities, or that the parser gives up on (nesting too deep) is 400
 * InvalidXmlDocument with the reason: a hostile body is the client's mistake,
 * never a server failure.
 */
export function parseXml(body: Buffer, mode: 'plain' | 'ordered' | 'untrimmed' = 'plain'): any {
  const text = body.toString('utf8');
  const declaration = DECLARATION.exec(text);
  if (declaration) throw errors.invalidXml(`the body declares a ${declaration[1]!.toUpperCase()}, which request bodies may not; send the document without it.`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw errors.invalidXml(`${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col}).`);
  try {
    return (mode === 'ordered' ? orderedParser : mode === 'untrimmed' ? untrimmedParser : parser).parse(text);
  } catch (error) {
    throw errors.invalidXml(`${(error as Error).message}.`);
  }
}
