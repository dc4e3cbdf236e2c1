import fs from 'node:fs';

/**
 * Writes a file only its owner may read (mode 0600): private keys, client
 * secrets. It goes to a temporary name first and is renamed into place, so a
 * reader never sees half a file and an existing file's wider mode is not kept.
 */
export function writePrivateFile(file: string, content: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, content, { mode: 0o600 });
  fs.chmodSync(temp, 0o600);
  fs.renameSync(temp, file);
}
