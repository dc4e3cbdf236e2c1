import { DISK_FULL_MESSAGE, isDiskFull } from '../../storage/http/disk-full.js';

/**
 * An error the management plane answers with: ARM's JSON body
 * `{"error":{"code","message"}}`. The message says what was wrong and how to
 * fix it; it never carries a key, a secret or a token.
 */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers (WWW-Authenticate on 401). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

// Constructors for errors several handlers share, so codes and messages stay uniform.
export const armErrors = {
  invalidContent: (why: string) => new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: ${why}`),
  invalidParameter: (why: string) => new ArmError(400, 'InvalidParameter', why),
  missingApiVersion: () =>
    new ArmError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests, e.g. '?api-version=2023-01-01'."),
  subscriptionNotFound: (id: string) => new ArmError(404, 'SubscriptionNotFound', `The subscription '${id}' could not be found.`),
  resourceGroupNotFound: (name: string) => new ArmError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`),
  resourceNotFound: (type: string, name: string, group: string) =>
    new ArmError(404, 'ResourceNotFound', `The Resource '${type}/${name}' under resource group '${group}' was not found.`),
  bodyTooLarge: (limit: number) => new ArmError(413, 'RequestEntityTooLarge', `The request body exceeds the limit of ${limit} bytes.`),
  /** What a request that failed on the server's side is answered, told apart only when the disk is full (`cause`). */
  internal: (cause?: unknown) =>
    new ArmError(500, 'InternalServerError', isDiskFull(cause) ? DISK_FULL_MESSAGE : 'The server encountered an internal error. Please retry the request.'),
};
