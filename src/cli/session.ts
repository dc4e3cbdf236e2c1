import fs from 'node:fs';
import { trustCa } from '../client/trust-ca.js';
import { mlspaceHome } from '../server/config.js';
import type { ArmClients } from '../sdk/arm-clients.js';
import { ArmRest } from './arm-rest.js';
import { CliError } from './errors.js';
import { configDir, loadLogin, loginEndpoints, type StoredLogin } from './login-store.js';
import { TokenSource, tokenCacheFile } from './token-source.js';

export interface Session {
  login: StoredLogin;
  subscriptionId: string;
  /** The management endpoint, for commands that only move JSON: fast to load. */
  rest: ArmRest;
  /** The official ARM clients, for the SDK's work (rotations, transfers); they take about half a second to load. */
  clients(): Promise<ArmClients>;
}

/** The signed-in session every command but login works in. */
export function openSession(home: string = mlspaceHome()): Session {
  const stored = loadLogin(home);
  if (!stored) throw new CliError("Please run 'mlspace login' to setup account.");
  const { login, clientSecret } = stored;
  const { arm, authority, caFile, dataPlane } = loginEndpoints(login);
  const ca = caFile ? fs.readFileSync(caFile) : undefined;
  const tokens = new TokenSource({ authority, tenantId: login.tenantId, clientId: login.clientId, clientSecret, ca }, tokenCacheFile(configDir(home)));
  let clients: Promise<ArmClients> | undefined;
  return {
    login,
    subscriptionId: login.subscriptionId,
    rest: new ArmRest(arm, tokens, ca),
    clients() {
      clients ??= import('../sdk/arm-clients.js').then(({ armClients }) =>
        armClients({ credential: tokens, endpoint: arm, clientOptions: caFile ? trustCa(caFile) : {}, caFile, authorityHost: authority, dataPlane }, login.subscriptionId),
      );
      return clients;
    },
  };
}
