import type { StorageAccountRecord } from '../../db/records.js';
import { issueAccountSas, issueServiceSas, sasTime } from '../../storage/auth/sas-issue.js';
import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { armErrors } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import type { ArmRoute } from '../http/route.js';
import { ACCOUNT_PATH, requireAccount } from './storage-accounts.js';

const ACTION = 'Microsoft.Storage/storageAccounts';

function readTime(body: Fields, name: string, required: boolean): string | undefined {
  const value = required ? body.requiredString(name) : body.string(name);
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw armErrors.invalidContent(`'${body.path(name)}' must be an ISO 8601 time such as 2030-01-31T23:59:59Z; got '${value}'.`);
  return sasTime(time);
}

function letters(body: Fields, name: string, allowed: string, required: boolean): string | undefined {
  const value = required ? body.requiredString(name) : body.string(name);
  if (value === undefined) return undefined;
  if (![...value].every((c) => allowed.includes(c))) {
    throw armErrors.invalidContent(`'${body.path(name)}' may only contain the letters '${allowed}'; got '${value}'.`);
  }
  return value;
}

function signingKey(body: Fields, account: StorageAccountRecord): string {
  const keyToSign = body.oneOf('keyToSign', ['key1', 'key2'] as const, true) ?? 'key1';
  return account.keys[keyToSign === 'key1' ? 0 : 1];
}

async function listAccountSas(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const account = await requireAccount(deps, ctx);
  const body = new Fields(await readJsonObject(ctx.req));
  const token = issueAccountSas(account.name, signingKey(body, account), {
    services: letters(body, 'signedServices', 'bqtf', true)!,
    resourceTypes: letters(body, 'signedResourceTypes', 'sco', true)!,
    permissions: letters(body, 'signedPermission', 'rwdlacupitfxy', true)!,
    start: readTime(body, 'signedStart', false),
    expiry: readTime(body, 'signedExpiry', true)!,
    ip: body.string('signedIp'),
    protocol: body.oneOf('signedProtocol', ['https', 'https,http'] as const),
  });
  return { status: 200, body: { accountSasToken: token } };
}

const SERVICE_OF_RESOURCE = { b: 'blob', c: 'blob', f: 'file', s: 'file' } as const;

/**
 * canonicalizedResource names the resource as `/blob/{account}/{container}[/{blob}]`
 * or `/file/{account}/{share}[/{path}]`; signedResource says which level it is.
 */
async function listServiceSas(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const account = await requireAccount(deps, ctx);
  const body = new Fields(await readJsonObject(ctx.req));
  const resource = body.oneOf('signedResource', ['b', 'c', 'f', 's'] as const);
  if (resource === undefined) throw armErrors.invalidContent("'signedResource' is required: 'c' (container), 'b' (blob), 's' (share) or 'f' (file).");
  const service = SERVICE_OF_RESOURCE[resource];
  const canonical = body.requiredString('canonicalizedResource');
  const match = /^\/(blob|file)\/([^/]+)\/([^/]+)(?:\/(.+))?$/.exec(canonical);
  if (!match || match[1] !== service || match[2] !== account.name || (resource === 'c' || resource === 's' ? match[4] : !match[4])) {
    const example = resource === 'c' || resource === 's' ? `/${service}/${account.name}/{name}` : `/${service}/${account.name}/{name}/{path}`;
    throw armErrors.invalidContent(`'canonicalizedResource' must have the form '${example}' for signedResource '${resource}'; got '${canonical}'.`);
  }
  const identifier = body.string('signedIdentifier');
  const token = issueServiceSas(account.name, signingKey(body, account), {
    service,
    container: match[3]!,
    path: match[4] ?? '',
    resource,
    permissions: letters(body, 'signedPermission', 'rwdlacup', identifier === undefined),
    start: readTime(body, 'signedStart', false),
    expiry: readTime(body, 'signedExpiry', identifier === undefined),
    identifier,
    ip: body.string('signedIp'),
    protocol: body.oneOf('signedProtocol', ['https', 'https,http'] as const),
    cacheControl: body.string('rscc'),
    contentDisposition: body.string('rscd'),
    contentEncoding: body.string('rsce'),
    contentLanguage: body.string('rscl'),
    contentType: body.string('rsct'),
  });
  return { status: 200, body: { serviceSasToken: token } };
}

/** A SAS is a credential signed with a key: the activity log records who asked for one, as it records listKeys. */
export function storageSasRoutes(deps: ManagementDeps): ArmRoute[] {
  const accountSas = `${ACTION}/listAccountSas/action`;
  const serviceSas = `${ACTION}/listServiceSas/action`;
  return [
    { method: 'POST', pattern: `${ACCOUNT_PATH}/ListAccountSas`, action: accountSas, activity: accountSas, handler: (ctx) => listAccountSas(deps, ctx) },
    { method: 'POST', pattern: `${ACCOUNT_PATH}/ListServiceSas`, action: serviceSas, activity: serviceSas, handler: (ctx) => listServiceSas(deps, ctx) },
  ];
}
