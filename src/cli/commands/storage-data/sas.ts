import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { isIPv4 } from 'node:net';
import { CliError } from '../../errors.js';
import { permissionsFor, permissionsHelp, utcDateTime, type PermissionSet } from './arguments.js';
import type { StorageAccess } from './auth.js';

export interface SasOptions {
  permissions: string;
  expiry: Date;
  start?: Date;
  httpsOnly?: boolean;
  ip?: { start: string; end?: string };
}

/** `--ip 168.1.5.65` or `--ip 168.1.5.60-168.1.5.70`. */
function ipRange(value: string): { start: string; end?: string } {
  const [start, end, extra] = value.split('-');
  if (extra !== undefined || !isIPv4(start!) || (end !== undefined && !isIPv4(end))) {
    throw new InvalidArgumentError('expected an IPv4 address or a range of them, as 168.1.5.65 or 168.1.5.60-168.1.5.70.');
  }
  return { start: start!, end };
}

/** az's SAS arguments. */
export function withSasOptions(command: Command, permissions: PermissionSet): Command {
  return command
    .requiredOption('--permissions <letters>', permissionsHelp(permissions), permissionsFor(permissions))
    .requiredOption('--expiry <utc>', "when the SAS stops working, UTC: Y-m-d'T'H:M'Z', as 2030-12-31T12:59Z", utcDateTime)
    .option('--start <utc>', 'when the SAS starts working, UTC (default: at once)', utcDateTime)
    .option('--https-only', 'only allow requests made with HTTPS')
    .option('--ip <range>', 'only allow requests from this IP address or range (168.1.5.60-168.1.5.70)', ipRange);
}

/** Times that cannot make a working SAS are refused before anything is signed. */
function checkTimes(options: SasOptions): void {
  if (options.expiry.getTime() <= Date.now()) throw new CliError(`--expiry ${options.expiry.toISOString()} is in the past: the SAS would never work. Give a later time.`, 2);
  if (options.start && options.start >= options.expiry) throw new CliError('--start must be before --expiry.', 2);
}

/** A key from `access`, which accountAccess(..., 'key') guarantees. */
function keyOf(access: StorageAccess): string {
  if (access.credential.type !== 'AccountKey') throw new CliError('Signing a SAS needs the account key.', 2);
  return access.credential.key;
}

/** The terms of a service SAS that az's options give alike for blobs and files; `https` is the package's SASProtocol.Https. */
function sasTerms<P>(options: SasOptions, https: P) {
  return { expiresOn: options.expiry, startsOn: options.start, protocol: options.httpsOnly ? https : undefined, ipRange: options.ip };
}

/** A service SAS for a container, or for one blob of it, signed with the account key, as az prints it (no '?'). */
export async function blobSas(access: StorageAccess, container: string, blob: string | undefined, options: SasOptions): Promise<string> {
  checkTimes(options);
  const { BlobSASPermissions, ContainerSASPermissions, SASProtocol, StorageSharedKeyCredential, generateBlobSASQueryParameters } = await import('@azure/storage-blob');
  return generateBlobSASQueryParameters(
    {
      containerName: container,
      blobName: blob,
      permissions: blob === undefined ? ContainerSASPermissions.parse(options.permissions) : BlobSASPermissions.parse(options.permissions),
      ...sasTerms(options, SASProtocol.Https),
    },
    new StorageSharedKeyCredential(access.account, keyOf(access)),
  ).toString();
}

/** A service SAS for one file of a share. */
export async function fileSas(access: StorageAccess, share: string, filePath: string, options: SasOptions): Promise<string> {
  checkTimes(options);
  const { FileSASPermissions, SASProtocol, StorageSharedKeyCredential, generateFileSASQueryParameters } = await import('@azure/storage-file-share');
  return generateFileSASQueryParameters(
    {
      shareName: share,
      filePath,
      permissions: FileSASPermissions.parse(options.permissions),
      ...sasTerms(options, SASProtocol.Https),
    },
    new StorageSharedKeyCredential(access.account, keyOf(access)),
  ).toString();
}
