import fs from 'node:fs';
import path from 'node:path';
import { writePrivateFile } from '../secrets/private-file.js';
import { readEndpoints } from '../server/endpoints.js';
import { tokenCacheFile } from './token-source.js';
import type { DataPlaneEndpoints } from '../sdk/connection.js';

/**
 * What `mlspace login` remembers. A login to the local server keeps its data
 * directory rather than its URLs, because `mlspace up` may listen on other
 * ports next time; a remote login keeps its endpoint.
 */
export interface StoredLogin {
  kind: 'local' | 'remote';
  /** kind local: the server's data directory, whose endpoints.json is read on every command. */
  dataDir?: string;
  /** kind remote: the management (ARM) endpoint and the token authority. */
  endpoint?: string;
  authority?: string;
  /** kind remote: a CA certificate to trust, copied into the config directory. */
  caFile?: string;
  tenantId: string;
  subscriptionId: string;
  clientId: string;
}

export function configDir(home: string): string {
  return path.join(home, 'config');
}

const loginFile = (home: string) => path.join(configDir(home), 'login.json');
const secretFile = (home: string) => path.join(configDir(home), 'client-secret');
export const storedCaFile = (home: string) => path.join(configDir(home), 'ca.pem');

/** Saves a login; the client secret goes in its own file, mode 0600, in a directory only the user may enter. */
export function saveLogin(home: string, login: StoredLogin, clientSecret: string): void {
  fs.mkdirSync(configDir(home), { recursive: true, mode: 0o700 });
  fs.chmodSync(configDir(home), 0o700);
  // Tokens of the previous login are of no use to this one.
  fs.rmSync(tokenCacheFile(configDir(home)), { force: true });
  writePrivateFile(secretFile(home), clientSecret);
  writePrivateFile(loginFile(home), JSON.stringify(login, null, 2) + '\n');
}

export function loadLogin(home: string): { login: StoredLogin; clientSecret: string } | undefined {
  if (!fs.existsSync(loginFile(home))) return undefined;
  return {
    login: JSON.parse(fs.readFileSync(loginFile(home), 'utf8')) as StoredLogin,
    clientSecret: fs.readFileSync(secretFile(home), 'utf8'),
  };
}

/** Forgets the login; false when there was none. */
export function clearLogin(home: string): boolean {
  const existed = fs.existsSync(loginFile(home));
  for (const file of [loginFile(home), secretFile(home), storedCaFile(home), tokenCacheFile(configDir(home))]) fs.rmSync(file, { force: true });
  return existed;
}

/** Where a login's endpoints are: a local server's are re-read, as its ports may have changed. */
export function loginEndpoints(login: StoredLogin): { arm: string; authority: string; caFile?: string; dataPlane?: DataPlaneEndpoints } {
  if (login.kind === 'local') {
    const endpoints = readEndpoints(login.dataDir!);
    return { arm: endpoints.arm, authority: endpoints.authority, caFile: endpoints.caFile, dataPlane: endpoints };
  }
  return { arm: login.endpoint!, authority: login.authority!, caFile: login.caFile };
}
