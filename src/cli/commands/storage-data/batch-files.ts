import fs from 'node:fs';
import type { RemoteFile, StorageTarget } from '../../../sdk/storage-target.js';
import { filesUnder, joinRemote, localPathUnder, type PlannedFile } from '../../../sdk/transfer.js';
import { CliError } from '../../errors.js';
import { existingDirectory } from './local.js';
import { fnmatch } from './pattern.js';

export const PATTERN_HELP = "only the files whose paths match this fnmatch-style glob (* also matches '/'), as az: '*.csv', 'raw/2024-*'";

/** az takes a container's or share's name (or URL); mlspace takes its name. */
export function nameNotUrl(value: string, option: string, kind: 'container' | 'share'): string {
  if (/^https?:\/\//i.test(value)) throw new CliError(`${option}: give the ${kind}'s name; ${kind} URLs are not taken here (the account comes from --account-name or --connection-string).`, 2);
  return value;
}

/** az matches a pattern against the path relative to the source; a leading '/' means the source itself. */
function matcher(pattern: string | undefined): (path: string) => boolean {
  return pattern ? fnmatch(pattern.replace(/^\/+/, '')) : () => true;
}

/** The files under `--source` that `--pattern` selects, each with its remote path under `--destination-path`. */
export function localFilesMatching(source: string, pattern: string | undefined, destinationPath: string | undefined): PlannedFile[] {
  const root = existingDirectory(source, '--source');
  const matches = matcher(pattern);
  return filesUnder(root)
    .filter((file) => matches(file.relative))
    .map((file) => ({ localPath: file.localPath, remotePath: joinRemote(destinationPath, file.relative), size: file.size }));
}

/** The remote files `--pattern` selects, in name order. */
export async function remoteFilesMatching(target: StorageTarget, pattern: string | undefined): Promise<RemoteFile[]> {
  const matches = matcher(pattern);
  const found: RemoteFile[] = [];
  for await (const file of target.list('')) if (matches(file.path)) found.push(file);
  return found.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * Where each remote file lands under `--destination`. A name that would land
 * outside it, and a local file in the way when --overwrite is false, stop the
 * batch before anything is written.
 */
export function downloadsInto(destination: string, files: RemoteFile[], overwrite: boolean): PlannedFile[] {
  const root = existingDirectory(destination, '--destination');
  const planned = files.map((file) => ({ localPath: localPathUnder(root, file.path), remotePath: file.path, size: file.size }));
  const inTheWay = overwrite ? undefined : planned.find((file) => fs.existsSync(file.localPath));
  if (inTheWay) throw new CliError(`'${inTheWay.localPath}' already exists, and --overwrite is false: nothing was downloaded. Leave that out to replace such files.`, 1);
  return planned;
}

/** A batch that selects nothing does nothing, as in az, but says why. */
export function warnIfNone(count: number, what: string, pattern: string | undefined): void {
  if (count === 0) process.stderr.write(`WARNING: No ${what}${pattern ? ` matches --pattern '${pattern}'` : ''}; nothing to do.\n`);
}
