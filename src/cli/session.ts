import { ClientSecretCredential } from '@azure/identity';
import { trustCa } from '../client/trust-ca.js';
import { mlspaceHome } from '../server/config.js';
import { armClients, type ArmClients } from '../sdk/arm-clients.js';
import type { Connection } from '../sdk/connection.js';
import { CliError } from './errors.js';
import { loadLogin, loginEndpoints, type StoredLogin } from './login-store.js';

export function connectionFor(login: StoredLogin, clientSecret: string): Connection {
  const { arm, authority, caFile } = loginEndpoints(login);
  const trust = caFile ? trustCa(caFile) : {};
  return {
    credential: new ClientSecretCredential(login.tenantId, login.clientId, clientSecret, { authorityHost: authority, disableInstanceDiscovery: true, ...trust }),
    endpoint: arm,
    clientOptions: trust,
    caFile,
  };
}

export interface Session {
  login: StoredLogin;
  arm: ArmClients;
}

/** The signed-in session every command but login works in. */
export function openSession(home: string = mlspaceHome()): Session {
  const stored = loadLogin(home);
  if (!stored) throw new CliError("Please run 'mlspace login' to setup account.");
  return { login: stored.login, arm: armClients(connectionFor(stored.login, stored.clientSecret), stored.login.subscriptionId) };
}
