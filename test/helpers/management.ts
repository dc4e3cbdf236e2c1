import fs from 'node:fs';
import https from 'node:https';
import { ClientSecretCredential } from '@azure/identity';
import { ResourceManagementClient } from '@azure/arm-resources';
import { StorageManagementClient } from '@azure/arm-storage';
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import { trustCa } from '../../src/client/trust-ca.js';
import type { TestServer } from './server.js';

export interface ClientSecret {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

export function adminSecret(server: TestServer): ClientSecret {
  return JSON.parse(fs.readFileSync(server.adminClientFile, 'utf8'));
}

/** The official clients, pointed at the server and trusting its CA (NODE_EXTRA_CA_CERTS is read too early for vitest workers). */
export function managementClients(server: TestServer, secret: ClientSecret = adminSecret(server)) {
  const trust = trustCa(server.caFile);
  const credential = new ClientSecretCredential(secret.tenantId, secret.clientId, secret.clientSecret, {
    authorityHost: server.authority,
    disableInstanceDiscovery: true,
    ...trust,
  });
  const options = { endpoint: server.arm, ...trust };
  return {
    credential,
    resources: new ResourceManagementClient(credential, server.subscriptionId, options),
    storage: new StorageManagementClient(credential, server.subscriptionId, options),
    ml: new AzureMachineLearningWorkspaces(credential, server.subscriptionId, options),
  };
}

/** A raw HTTPS request to the management endpoint, for what the SDKs cannot send (malformed bodies, bad tokens). */
export function armRequest(
  server: TestServer,
  method: string,
  path: string,
  options: { token?: string; body?: string | object; apiVersion?: string | null; contentType?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: any; text: string }> {
  const url = new URL(path, server.arm);
  if (options.apiVersion !== null) url.searchParams.set('api-version', options.apiVersion ?? '2023-01-01');
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca: fs.readFileSync(server.caFile) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        let json: any;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, json, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A bearer token for a client, straight from the token endpoint. */
export async function tokenFor(server: TestServer, secret: ClientSecret = adminSecret(server)): Promise<string> {
  const { credential } = managementClients(server, secret);
  return (await credential.getToken('https://management.azure.com/.default'))!.token;
}
