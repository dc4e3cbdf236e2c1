import type { IncomingMessage } from 'node:http';
import { armErrors } from './errors.js';

/** ARM request bodies are small documents; anything larger is a mistake or an attack. */
const MAX_BODY = 1024 * 1024;

export async function readBody(req: IncomingMessage, max = MAX_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw armErrors.bodyTooLarge(max);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/**
 * The body as a JSON object. An empty body is `{}` (POST actions such as listKeys
 * send none); anything that is not a JSON object is a 400 naming the problem.
 */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req);
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw armErrors.invalidContent(`the body is not valid JSON (${(error as Error).message}).`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw armErrors.invalidContent('the body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}
