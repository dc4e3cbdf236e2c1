import { CliError } from '../../errors.js';
import type { StorageService } from './auth.js';

export interface ParsedConnectionString {
  accountName: string;
  /** The service's URL: BlobEndpoint or FileEndpoint, or built from the protocol and EndpointSuffix. */
  endpoint: string;
  accountKey?: string;
  sasToken?: string;
}

/** The well-known development account, which `UseDevelopmentStorage=true` means (Azurite's ports are mlspace's defaults). */
const DEVELOPMENT = {
  accountName: 'devstoreaccount1',
  accountKey: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
  ports: { blob: 10000, file: 10003 },
};

/**
 * Reads a storage connection string as the Azure clients do (keys are not
 * case-sensitive; a value may hold '='), for the one service a command uses.
 */
export function parseConnectionString(text: string, service: StorageService): ParsedConnectionString {
  const fields = new Map<string, string>();
  for (const part of text.split(';')) {
    if (part.trim() === '') continue;
    const at = part.indexOf('=');
    if (at <= 0) throw new CliError(`--connection-string: '${part.slice(0, 40)}' is not a Key=Value pair; copy the string that 'mlspace storage account show-connection-string' prints.`, 2);
    fields.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  if (fields.get('usedevelopmentstorage')?.toLowerCase() === 'true') {
    const proxy = fields.get('developmentstorageproxyuri') ?? 'http://127.0.0.1';
    return { accountName: DEVELOPMENT.accountName, accountKey: DEVELOPMENT.accountKey, endpoint: `${proxy.replace(/\/+$/, '')}:${DEVELOPMENT.ports[service]}/${DEVELOPMENT.accountName}` };
  }
  const explicit = fields.get(service === 'blob' ? 'blobendpoint' : 'fileendpoint');
  let accountName = fields.get('accountname');
  if (!accountName && explicit) accountName = accountFromEndpoint(explicit);
  if (!accountName) throw new CliError('--connection-string has no AccountName; copy the string that \'mlspace storage account show-connection-string\' prints.', 2);
  let endpoint = explicit;
  if (!endpoint) {
    const suffix = fields.get('endpointsuffix');
    const name = service === 'blob' ? 'BlobEndpoint' : 'FileEndpoint';
    if (!suffix) throw new CliError(`--connection-string has no ${name} (nor an EndpointSuffix to build it from); add ${name}=<the account's ${service} URL>.`, 2);
    endpoint = `${fields.get('defaultendpointsprotocol') ?? 'https'}://${accountName}.${service}.${suffix}`;
  }
  const sas = fields.get('sharedaccesssignature');
  return { accountName, endpoint, accountKey: fields.get('accountkey') || undefined, sasToken: sas ? sas.replace(/^\?/, '') : undefined };
}

/** The account of a service URL: the first path segment (path-style, this server), else the host's first label. */
function accountFromEndpoint(endpoint: string): string | undefined {
  try {
    const url = new URL(endpoint);
    return url.pathname.split('/').find((segment) => segment !== '') ?? url.hostname.split('.')[0];
  } catch {
    throw new CliError(`--connection-string: '${endpoint}' is not a URL.`, 2);
  }
}
