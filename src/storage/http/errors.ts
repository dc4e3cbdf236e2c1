import type { ServerResponse } from 'node:http';
import { DISK_FULL_MESSAGE, isDiskFull } from './disk-full.js';

/**
 * An error the Storage data plane answers with: Azure's XML body
 * `<Error><Code/><Message/></Error>` plus the `x-ms-error-code` header.
 * The message says what was wrong and how to fix it; it never carries a key,
 * a signature or a SAS token.
 */
export class StorageError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra XML elements Azure adds for some codes (e.g. AuthenticationErrorDetail). */
    readonly details: Record<string, string> = {},
    /** Extra response headers some codes carry (Content-Range on 416). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const xmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
/** Escapes markup; control characters, which XML 1.0 cannot carry at all, are written as `\uXXXX`. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => xmlEscapes[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Azure's XML error document for `error`. */
export function storageErrorBody(error: StorageError, requestId: string): string {
  let extra = '';
  for (const [name, value] of Object.entries(error.details)) extra += `<${name}>${escapeXml(value)}</${name}>`;
  return (
    `<?xml version="1.0" encoding="utf-8"?><Error><Code>${error.code}</Code>` +
    `<Message>${escapeXml(`${error.message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}`)}</Message>${extra}</Error>`
  );
}

export function sendStorageError(res: ServerResponse, error: StorageError, requestId: string): void {
  const body = storageErrorBody(error, requestId);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // An answer to HEAD has no body, so it names no content type either (Azure's have none).
  const head = res.req?.method === 'HEAD';
  res.writeHead(error.status, {
    ...(head ? {} : { 'content-type': 'application/xml' }),
    'content-length': head ? 0 : Buffer.byteLength(body),
    'x-ms-error-code': error.code,
    'x-ms-request-id': requestId,
    'x-ms-version': STORAGE_API_VERSION,
    ...error.headers,
  });
  res.end(head ? undefined : body);
}

/** The newest service version we answer as; we accept every version the SDKs send. */
export const STORAGE_API_VERSION = '2025-11-05';

// Constructors for the errors the services share, so codes and messages stay uniform.
export const errors = {
  authFailed: (detail: string) =>
    new StorageError(
      403,
      'AuthenticationFailed',
      'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.',
      { AuthenticationErrorDetail: detail },
    ),
  permissionMismatch: (detail: string) =>
    new StorageError(403, 'AuthorizationPermissionMismatch', `This request is not authorized to perform this operation using this permission. ${detail}`),
  resourceTypeMismatch: (detail: string) =>
    new StorageError(403, 'AuthorizationResourceTypeMismatch', `This request is not authorized to perform this operation using this resource type. ${detail}`),
  serviceMismatch: (detail: string) =>
    new StorageError(403, 'AuthorizationServiceMismatch', `This request is not authorized to perform this operation using this service. ${detail}`),
  protocolMismatch: () =>
    new StorageError(403, 'AuthorizationProtocolMismatch', 'This request is not authorized to perform this operation using this protocol. The SAS allows only HTTPS (spr=https); use an https endpoint or sign with spr=https,http.'),
  sourceIpMismatch: () =>
    new StorageError(403, 'AuthorizationSourceIPMismatch', 'This request is not authorized to perform this operation using this source IP. The SAS sip range does not include the caller.'),
  keyBasedAuthNotPermitted: () =>
    new StorageError(403, 'KeyBasedAuthenticationNotPermitted', 'Key based authentication is not permitted on this storage account (allowSharedKeyAccess is false).'),
  noAuthentication: () =>
    new StorageError(404, 'ResourceNotFound', 'The specified resource does not exist.'),
  accountNotFound: (account: string) =>
    new StorageError(400, 'InvalidUri', `The storage account '${account}' does not exist on this server. Create it first, or check the account name in the URL.`),
  invalidHeader: (header: string, why: string) =>
    new StorageError(400, 'InvalidHeaderValue', `The value for header '${header}' is invalid: ${why}`, { HeaderName: header }),
  missingHeader: (header: string, why: string) =>
    new StorageError(400, 'MissingRequiredHeader', `An HTTP header that's mandatory for this request is not specified: ${header}. ${why}`, { HeaderName: header }),
  invalidQuery: (name: string, why: string) =>
    new StorageError(400, 'InvalidQueryParameterValue', `Value for query parameter '${name}' is invalid: ${why}`, { QueryParameterName: name }),
  missingQuery: (name: string, why: string) =>
    new StorageError(400, 'MissingRequiredQueryParameter', `A query parameter that's mandatory for this request is not specified: ${name}. ${why}`, { QueryParameterName: name }),
  invalidXml: (why: string) => new StorageError(400, 'InvalidXmlDocument', `XML specified is not syntactically valid: ${why}`),
  unsupportedOperation: (what: string) =>
    new StorageError(400, 'UnsupportedHttpVerb', `The resource doesn't support the specified operation: ${what}.`),
  invalidUri: (why: string) => new StorageError(400, 'InvalidUri', `The requested URI does not represent any resource on the server: ${why}`),
  md5Mismatch: () =>
    new StorageError(400, 'Md5Mismatch', 'The MD5 value specified in the request did not match with the MD5 value calculated by the server. The body was not stored; resend it.'),
  crc64Mismatch: () =>
    new StorageError(400, 'Crc64Mismatch', 'The CRC64 value specified in the request did not match with the CRC64 value calculated by the server. The body was not stored; resend it.'),
  invalidMd5: () => new StorageError(400, 'InvalidMd5', 'The MD5 value specified in the request is invalid. It must be the Base64 encoding of a 16-byte MD5 digest.'),
  requestBodyTooLarge: (limit: number) =>
    new StorageError(413, 'RequestBodyTooLarge', `The request body is too large and exceeds the maximum permissible limit of ${limit} bytes.`),
  invalidRange: (size: number) =>
    new StorageError(416, 'InvalidRange', `The range specified is invalid for the current size of the resource (${size} bytes).`, {}, { 'content-range': `bytes */${size}` }),
  conditionNotMet: () => new StorageError(412, 'ConditionNotMet', 'The condition specified using HTTP conditional header(s) is not met.'),
  serverBusy: () =>
    new StorageError(503, 'ServerBusy', 'The server is currently unable to receive requests: too many uploads are in flight. Please retry your request.'),
  keysBehind: () =>
    new StorageError(
      503,
      'ServerBusy',
      'The server is currently unable to receive requests: this node has not confirmed the current account keys with the database. Please retry your request.',
    ),
  /** What a request that failed on the server's side is answered, told apart only when the disk is full (`cause`). */
  internal: (cause?: unknown) =>
    new StorageError(500, 'InternalError', isDiskFull(cause) ? DISK_FULL_MESSAGE : 'The server encountered an internal error. Please retry the request.'),
};
