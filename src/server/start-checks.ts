import fs from 'node:fs';
import net from 'node:net';
import { DEV_ACCOUNT, type ServerConfig } from './config.js';

/**
 * The data directory holds small blob bodies in the metadata file, every blob's
 * bytes, the sealed keys and (by default) the master key that unseals them: no
 * one but the server's user may reach it. A shared volume in front of several
 * nodes is the exception, and then the operator answers for its permissions.
 */
export function checkDataDirPrivate(dataDir: string, allowShared: boolean): void {
  const mode = fs.statSync(dataDir).mode & 0o777;
  if ((mode & 0o077) === 0 || allowShared) return;
  throw new Error(
    `The data directory ${dataDir} is open to other users (mode ${mode.toString(8).padStart(4, '0')}), and it holds blob data, ` +
      `sealed keys and the master key. Run 'chmod 700 ${dataDir}', or start with --allow-shared-data-dir ` +
      'if it is a shared volume whose permissions you manage.',
  );
}

/**
 * devstoreaccount1's key is published (it is Azurite's well-known key), so on an
 * address other machines can reach, anyone there could read and write its data.
 */
export function checkDevAccountExposure(config: Pick<ServerConfig, 'devAccount' | 'host' | 'allowDevAccountOnNetwork'>): void {
  if (!config.devAccount || config.allowDevAccountOnNetwork || isLoopback(config.host)) return;
  throw new Error(
    `Refusing to serve ${DEV_ACCOUNT.name} on ${config.host}: its key is public (Azurite's well-known key), so anyone who can ` +
      `reach this address could read and write its data. Start with --no-dev-account and declare your own accounts ` +
      '(MLSPACE_ACCOUNTS), or with --allow-dev-account-on-network if the network is yours alone.',
  );
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/**
 * The ports given are free, before anything is written: a server that cannot
 * listen must say which option to change, not leave a half-made data directory.
 * (Another process may still take a port in the moment before the server
 * listens; that rare case fails with the system's message.)
 */
export async function checkPortsFree(config: Pick<ServerConfig, 'host' | 'blobPort' | 'filePort' | 'blobHttpsPort' | 'fileHttpsPort' | 'armPort'>): Promise<void> {
  const ports: [number, string][] = [
    [config.blobPort, '--blob-port'],
    [config.filePort, '--file-port'],
    [config.blobHttpsPort, '--blob-https-port'],
    [config.fileHttpsPort, '--file-https-port'],
    [config.armPort, '--arm-port'],
  ];
  const given = ports.filter(([port]) => port !== 0);
  for (const [port, option] of given) {
    const other = given.find(([otherPort, otherOption]) => otherPort === port && otherOption !== option);
    if (other) throw new Error(`${option} and ${other[1]} both ask for port ${port}; each service needs its own (0 picks a free one).`);
    await new Promise<void>((resolve, reject) => {
      const probe = net.createServer();
      probe.once('error', (error: NodeJS.ErrnoException) => {
        const why = error.code === 'EADDRINUSE' ? 'is already in use' : error.code === 'EACCES' ? 'needs privileges this user lacks' : `cannot be used (${error.code})`;
        reject(new Error(`Port ${port} (${option}) ${why} on ${config.host}: stop what uses it, or start with ${option} PORT (0 picks a free one).`));
      });
      probe.listen(port, config.host, () => probe.close(() => resolve()));
    });
  }
}
