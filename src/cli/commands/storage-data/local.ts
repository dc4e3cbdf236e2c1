import fs from 'node:fs';
import path from 'node:path';
import { CliError } from '../../errors.js';

/** A local file to upload, checked before anything is sent. */
export function fileToUpload(file: string, option: string): { localPath: string; size: number } {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new CliError(`${option}: there is no file '${file}'. Give the path of an existing file.`, 2);
  }
  if (!stat.isFile()) throw new CliError(`${option}: '${file}' is not a file${stat.isDirectory() ? ' but a directory; upload a directory with upload-batch' : ''}.`, 2);
  return { localPath: path.resolve(file), size: stat.size };
}

/** A local directory a batch reads from or writes into; az requires it to exist. */
export function existingDirectory(dir: string, option: string): string {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CliError(`${option}: '${dir}' is not an existing directory.`, 2);
  return path.resolve(dir);
}

/**
 * Where a download goes: the given path, or `name` inside it when it is a
 * directory (or `name` in the working directory when none is given).
 * Existing files are replaced, as az does, unless `overwrite` is false.
 */
export function downloadDestination(given: string | undefined, name: string, overwrite: boolean): string {
  const base = path.posix.basename(name);
  const target = given === undefined ? base : fs.existsSync(given) && fs.statSync(given).isDirectory() ? path.join(given, base) : given;
  if (!overwrite && fs.existsSync(target)) throw new CliError(`'${target}' already exists, and --overwrite is false: leave that out to replace the file, or give another path.`, 1);
  return path.resolve(target);
}
