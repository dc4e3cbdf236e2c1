import type { IncomingMessage } from 'node:http';
import type { DirectoryStore } from '../../db/directory.js';
import { ArmError } from '../http/errors.js';
import { loadPrincipal, principalAllows, scopeKey, type Principal } from './principal.js';
import type { TokenService } from './tokens.js';

/**
 * The caller of a management request, from its bearer token. Missing, expired,
 * forged or wrong-audience tokens are 401 InvalidAuthenticationToken with a
 * WWW-Authenticate challenge naming the authority to get a token from; the
 * client must still exist, so deleting it revokes its tokens.
 */
export async function authenticateBearer(
  req: IncomingMessage,
  tokens: TokenService,
  directory: DirectoryStore,
  authority: string,
): Promise<Principal> {
  const unauthorized = (message: string) =>
    new ArmError(401, 'InvalidAuthenticationToken', message, {
      'www-authenticate': `Bearer authorization_uri="${authority}", error="invalid_token", error_description="${message.replace(/["\\]/g, '')}"`,
    });
  const header = req.headers.authorization;
  if (header === undefined) {
    throw unauthorized("The 'Authorization' header is missing. Send 'Authorization: Bearer <token>' with a token from the token endpoint.");
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw unauthorized("The 'Authorization' header must have the form 'Bearer <token>'.");
  let clientId: string;
  try {
    clientId = (await tokens.verify(match[1]!)).clientId;
  } catch (error) {
    throw unauthorized(`The access token is invalid: ${reason(error)} Get a new token for the scope https://management.azure.com/.default.`);
  }
  const principal = await loadPrincipal(directory, clientId);
  if (!principal) throw unauthorized(`The access token is invalid: client '${clientId}' no longer exists.`);
  return principal;
}

/** jose's error messages name the failed check without echoing the token. */
export function reason(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ERR_JWT_EXPIRED') return 'it has expired.';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return `${(error as Error).message}.`;
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return 'its signature does not verify (it was not issued by this server).';
  if (code === 'ERR_JWS_INVALID' || code === 'ERR_JWT_INVALID') return 'it is not a well-formed JWT.';
  return error instanceof Error && !code ? error.message : 'it could not be verified.';
}

/** Refuses, 403 AuthorizationFailed, a principal none of whose role assignments reaching `scope` grants `action`. */
export function authorize(principal: Principal, action: string, scope: string): void {
  if (principalAllows(principal, action, scopeKey(scope))) return;
  throw new ArmError(
    403,
    'AuthorizationFailed',
    `The client '${principal.clientId}' with object id '${principal.clientId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. ` +
      'Ask an Owner to assign you a role that allows it at this scope or above (mlspace role assignment create).',
  );
}
