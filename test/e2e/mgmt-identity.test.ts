import { execFile } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { trustCa } from '../../src/client/trust-ca.js';
import { runCli } from '../helpers/cli.js';
import { adminSecret, armRequest, managementClients, tokenFor, type ClientSecret } from '../helpers/management.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('management endpoint: TLS, tokens and roles', { timeout: 60_000 }, () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('endpoints.json names the HTTPS endpoint, tenant, subscription, CA and admin client; secrets are 0600', () => {
    expect(server.arm).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.authority).toBe(server.arm);
    expect(server.tenantId).toMatch(/^[0-9a-f-]{36}$/);
    expect(server.subscriptionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(path.isAbsolute(server.caFile) && path.isAbsolute(server.adminClientFile)).toBe(true);
    expect(fs.readFileSync(server.caFile, 'utf8')).toContain('BEGIN CERTIFICATE');
    const admin = adminSecret(server);
    expect(Object.keys(admin).sort()).toEqual(['clientId', 'clientSecret', 'tenantId']);
    expect(admin.tenantId).toBe(server.tenantId);
    for (const file of [server.adminClientFile, path.join(server.dataDir, 'tls/ca.key'), path.join(server.dataDir, 'tls/server.key'), path.join(server.dataDir, 'identity/token-signing.key')]) {
      expect(mode(file), file).toBe(0o600);
    }
  });

  test('ClientSecretCredential gets a token and the official clients use it', async () => {
    const { resources } = managementClients(server);
    const created = await resources.resourceGroups.createOrUpdate('rg-identity', { location: 'westeurope', tags: { team: 'ml' } });
    expect(created.id).toBe(`/subscriptions/${server.subscriptionId}/resourceGroups/rg-identity`);
    expect((await resources.resourceGroups.checkExistence('RG-IDENTITY')).body).toBe(true);
    expect((await resources.resourceGroups.checkExistence('rg-missing')).body).toBe(false);
    const names: string[] = [];
    for await (const group of resources.resourceGroups.list()) names.push(group.name!);
    expect(names).toEqual(expect.arrayContaining(['rg-identity', 'mlspace-builtin']));
    const subscriptions = await armRequest(server, 'GET', '/subscriptions', { token: await tokenFor(server) });
    expect(subscriptions.json.value).toEqual([expect.objectContaining({ subscriptionId: server.subscriptionId, tenantId: server.tenantId, state: 'Enabled' })]);
    const one = await armRequest(server, 'GET', `/subscriptions/${server.subscriptionId}`, { token: await tokenFor(server) });
    expect(one.json).toMatchObject({ id: `/subscriptions/${server.subscriptionId}`, displayName: 'mlspace' });
    const other = await armRequest(server, 'GET', '/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups', { token: await tokenFor(server) });
    expect([other.status, other.json.error.code]).toEqual([404, 'SubscriptionNotFound']);
  });

  test('a wrong client secret is refused by the token endpoint', async () => {
    const admin = adminSecret(server);
    const credential = new ClientSecretCredential(admin.tenantId, admin.clientId, 'not-the-secret', {
      authorityHost: server.authority,
      disableInstanceDiscovery: true,
      ...trustCa(server.caFile),
    });
    await expect(credential.getToken('https://management.azure.com/.default')).rejects.toThrow(/AADSTS7000215/);
  });

  test('missing, forged, expired and wrong-audience tokens are 401 InvalidAuthenticationToken with a challenge', async () => {
    const issuer = `${server.authority}/${server.tenantId}/v2.0`;
    const serverKey = createPrivateKey(fs.readFileSync(path.join(server.dataDir, 'identity/token-signing.key'), 'utf8'));
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const { clientId } = adminSecret(server);
    const sign = (key: typeof serverKey, audience: string, expiresAt: number) =>
      new SignJWT({ tid: server.tenantId })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuer(issuer)
        .setSubject(clientId)
        .setAudience(audience)
        .setIssuedAt(expiresAt - 3600)
        .setExpirationTime(expiresAt)
        .sign(key);
    const now = Math.floor(Date.now() / 1000);
    const path_ = `/subscriptions/${server.subscriptionId}/resourcegroups`;

    const missing = await armRequest(server, 'GET', path_);
    expect([missing.status, missing.json.error.code]).toEqual([401, 'InvalidAuthenticationToken']);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer authorization_uri="https:\/\//);

    const cases = {
      forged: await sign(otherKey, 'https://management.azure.com/', now + 600),
      expired: await sign(serverKey, 'https://management.azure.com/', now - 600),
      wrongAudience: await sign(serverKey, 'https://storage.azure.com/', now + 600),
      garbage: 'not.a.jwt',
    };
    for (const [name, token] of Object.entries(cases)) {
      const response = await armRequest(server, 'GET', path_, { token });
      expect([name, response.status, response.json.error.code]).toEqual([name, 401, 'InvalidAuthenticationToken']);
      expect(response.headers['www-authenticate'], name).toContain('error="invalid_token"');
      expect(response.headers['x-ms-request-id'], name).toBeTruthy();
    }
    // The same construction with the server's key and the right audience is accepted: the refusals above are for the stated reasons.
    const valid = await armRequest(server, 'GET', path_, { token: await sign(serverKey, 'https://management.azure.com/', now + 600) });
    expect(valid.status).toBe(200);
  });

  test('requests need an api-version; unknown paths and methods get ARM errors', async () => {
    const token = await tokenFor(server);
    const noVersion = await armRequest(server, 'GET', `/subscriptions/${server.subscriptionId}/resourcegroups`, { token, apiVersion: null });
    expect([noVersion.status, noVersion.json.error.code]).toEqual([400, 'MissingApiVersionParameter']);
    const unknown = await armRequest(server, 'GET', `/subscriptions/${server.subscriptionId}/providers/Microsoft.Compute/virtualMachines`, { token });
    expect([unknown.status, unknown.json.error.code]).toEqual([404, 'InvalidResourceType']);
    const method = await armRequest(server, 'POST', `/subscriptions/${server.subscriptionId}/resourcegroups/rg-identity`, { token });
    expect([method.status, method.json.error.code]).toEqual([405, 'MethodNotAllowed']);
  });

  describe('roles', () => {
    let reader: ClientSecret;
    let keyOperator: ClientSecret;

    beforeAll(async () => {
      const created = await Promise.all(
        ['Reader', 'Storage Account Key Operator'].map((role) => runCli(['ad', 'sp', 'create', '--role', role, '--data-dir', server.dataDir])),
      );
      for (const result of created) expect(result.code, result.stderr).toBe(0);
      [reader, keyOperator] = created.map((result) => JSON.parse(result.stdout));
      const { storage, ml } = managementClients(server);
      const account = await storage.storageAccounts.beginCreateAndWait('rg-identity', 'rolesacct', { location: 'westeurope', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
      await ml.workspaces.beginCreateOrUpdateAndWait('rg-identity', 'roles-ws', { location: 'westeurope', storageAccount: account.id });
    });

    test('ad sp create prints usable credentials with the role', () => {
      expect(reader).toMatchObject({ tenantId: server.tenantId, role: 'Reader' });
      expect(reader.clientId).toMatch(/^[0-9a-f-]{36}$/);
      expect(keyOperator).toMatchObject({ role: 'Storage Account Key Operator Service Role' });
    });

    test('Reader reads but cannot list keys or secrets, regenerate or write', async () => {
      const { storage, resources, ml } = managementClients(server, reader);
      expect((await storage.storageAccounts.getProperties('rg-identity', 'rolesacct')).name).toBe('rolesacct');
      expect((await ml.datastores.get('rg-identity', 'roles-ws', 'workspaceblobstore')).name).toBe('workspaceblobstore');
      for (const attempt of [
        () => storage.storageAccounts.listKeys('rg-identity', 'rolesacct'),
        () => storage.storageAccounts.regenerateKey('rg-identity', 'rolesacct', { keyName: 'key1' }),
        () => storage.storageAccounts.listAccountSAS('rg-identity', 'rolesacct', { services: 'b', resourceTypes: 'o', permissions: 'r', sharedAccessExpiryTime: new Date(Date.now() + 60_000) }),
        () => ml.datastores.listSecrets('rg-identity', 'roles-ws', 'workspaceblobstore'),
        () => ml.workspaces.listKeys('rg-identity', 'roles-ws'),
        () => ml.workspaces.beginResyncKeysAndWait('rg-identity', 'roles-ws'),
        () => resources.resourceGroups.createOrUpdate('rg-reader', { location: 'westeurope' }),
      ]) {
        await expect(attempt()).rejects.toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
      }
    });

    test('the key operator lists and regenerates keys but cannot read the account', async () => {
      const { storage } = managementClients(server, keyOperator);
      expect((await storage.storageAccounts.listKeys('rg-identity', 'rolesacct')).keys).toHaveLength(2);
      await expect(storage.storageAccounts.getProperties('rg-identity', 'rolesacct')).rejects.toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
    });

    test('only Owner may create clients', async () => {
      const response = await armRequest(server, 'POST', '/providers/Mlspace.Identity/servicePrincipals', { token: await tokenFor(server, reader), body: { role: 'Owner' } });
      expect([response.status, response.json.error.code]).toEqual([403, 'AuthorizationFailed']);
      const bad = await runCli(['ad', 'sp', 'create', '--role', 'Superuser', '--data-dir', server.dataDir]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/'role' must be a built-in role: 'Owner', 'Contributor', 'Reader'/);
    });
  });

  test('a separate Node process trusts the CA through NODE_EXTRA_CA_CERTS', async () => {
    const script = `
      import { ClientSecretCredential } from '@azure/identity';
      import { ResourceManagementClient } from '@azure/arm-resources';
      const [authority, arm, subscriptionId, tenantId, clientId, clientSecret] = process.argv.slice(1);
      const credential = new ClientSecretCredential(tenantId, clientId, clientSecret, { authorityHost: authority, disableInstanceDiscovery: true });
      const group = await new ResourceManagementClient(credential, subscriptionId, { endpoint: arm }).resourceGroups.get('rg-identity');
      console.log(group.location);`;
    const admin = adminSecret(server);
    const args = [server.authority, server.arm, server.subscriptionId, admin.tenantId, admin.clientId, admin.clientSecret];
    const run = (env: NodeJS.ProcessEnv) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, ['--input-type=module', '-e', script, ...args], { env, cwd: process.cwd() }, (error, stdout, stderr) =>
          resolve({ code: error ? 1 : 0, stdout, stderr }),
        );
      });
    const { NODE_EXTRA_CA_CERTS: _inherited, ...env } = process.env;
    const trusted = await run({ ...env, NODE_EXTRA_CA_CERTS: server.caFile });
    expect([trusted.code, trusted.stdout.trim()], trusted.stderr).toEqual([0, 'westeurope']);
    const untrusted = await run(env);
    // MSAL reports the failed TLS handshake to the OIDC metadata as endpoints_resolution_error.
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/self[- ]signed certificate|endpoints_resolution_error/i);
  });

  test('a restart reuses the CA, the signing key and the clients', async () => {
    const ca = fs.readFileSync(server.caFile, 'utf8');
    const token = await tokenFor(server);
    await server.stop();
    server = await startTestServer({ dataDir: server.dataDir });
    expect(fs.readFileSync(server.caFile, 'utf8')).toBe(ca);
    const { resources } = managementClients(server);
    expect((await resources.resourceGroups.get('rg-identity')).tags).toEqual({ team: 'ml' });
    // The port changed, so the old token's issuer names another origin; the signature still proves it is ours.
    expect((await armRequest(server, 'GET', `/subscriptions/${server.subscriptionId}/resourcegroups`, { token })).status).toBe(200);
  });
});
