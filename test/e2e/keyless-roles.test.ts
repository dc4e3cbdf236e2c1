import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { ClientSecretCredential } from '@azure/identity';
import { BlobClient, BlobSASPermissions, BlobServiceClient, ContainerClient, ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import { ShareServiceClient } from '@azure/storage-file-share';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustCa } from '../../src/client/trust-ca.js';
import { runCli } from '../helpers/cli.js';
import { errorOf, statusAndCode } from '../helpers/errors.js';

/** An ARM error's status and code, side by side. */
const armStatus = (error: { statusCode?: number; code?: string }) => [error.statusCode, error.code];
import { adminSecret, armRequest, managementClients, tokenFor, type ClientSecret } from '../helpers/management.js';
import { startTestServer, storedMetadata, type TestServer } from '../helpers/server.js';

const ROLE = {
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  blobContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  blobReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  filePrivilegedContributor: '69566ab7-960f-475b-8e7c-b3118f30c6bd',
  delegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a',
};

describe('keyless: scoped role assignments and bearer tokens on the data plane', { timeout: 120_000 }, () => {
  let server: TestServer;
  let home: string;
  let admin: ReturnType<typeof managementClients>;
  let authorization: AuthorizationManagementClient;
  let app: ClientSecret;
  let groupA: string;
  let accountA: string;

  const roleId = (id: string) => `/subscriptions/${server.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${id}`;
  const credentialOf = (secret: ClientSecret) =>
    new ClientSecretCredential(secret.tenantId, secret.clientId, secret.clientSecret, { authorityHost: server.authority, disableInstanceDiscovery: true, ...trustCa(server.caFile) });
  // The storage clients pass core-rest-pipeline's tlsOptions through, though their options type does not name it.
  const tls = () => ({ retryOptions: { maxTries: 1 }, tlsOptions: { ca: fs.readFileSync(server.caFile) } });
  const blobsOf = (secret: ClientSecret, account = 'keylessa') => new BlobServiceClient(`${server.blobHttps}/${account}`, credentialOf(secret), tls());
  const createPrincipal = async (role: string, scopes?: string[]): Promise<ClientSecret> => {
    const created = await armRequest(server, 'POST', '/providers/Mlspace.Identity/servicePrincipals', { token: await tokenFor(server), body: { role, scopes } });
    expect(created.status).toBe(201);
    return created.json;
  };

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-keyless-'));
    server = await startTestServer({ dataDir: path.join(home, 'data') });
    admin = managementClients(server);
    authorization = new AuthorizationManagementClient(admin.credential, server.subscriptionId, { endpoint: server.arm, ...trustCa(server.caFile) });
    for (const group of ['keyless-a', 'keyless-b']) await admin.resources.resourceGroups.createOrUpdate(group, { location: 'westeurope' });
    for (const [group, name] of [['keyless-a', 'keylessa'], ['keyless-b', 'keylessb']] as const) {
      await admin.storage.storageAccounts.beginCreateAndWait(group, name, { location: 'westeurope', sku: { name: 'Standard_LRS' }, kind: 'StorageV2' });
    }
    groupA = `/subscriptions/${server.subscriptionId}/resourceGroups/keyless-a`;
    accountA = `${groupA}/providers/Microsoft.Storage/storageAccounts/keylessa`;
    // The containers exist before anyone gets a role on them; the admin (Owner, no data roles) creates them with a token: containers are actions.
    const ownerBlobs = blobsOf(adminSecret(server));
    for (const name of ['data', 'other']) await ownerBlobs.getContainerClient(name).create();
    app = await createPrincipal('Reader', [groupA]);
  });
  afterAll(async () => {
    await server?.stop();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it('lists the built-in roles with their real ids and data actions (arm-authorization)', async () => {
    const all = [];
    for await (const definition of authorization.roleDefinitions.list(`/subscriptions/${server.subscriptionId}`)) all.push(definition);
    expect(all.map((definition) => definition.roleName)).toEqual(
      expect.arrayContaining(['Owner', 'Contributor', 'Reader', 'User Access Administrator', 'Storage Account Key Operator Service Role', 'Storage Blob Data Owner', 'Storage Blob Data Contributor', 'Storage Blob Data Reader', 'Storage Blob Delegator', 'Storage File Data Privileged Contributor', 'Storage File Data Privileged Reader']),
    );
    const reader = [];
    for await (const definition of authorization.roleDefinitions.list(accountA, { filter: "roleName eq 'Storage Blob Data Reader'" })) reader.push(definition);
    expect(reader).toHaveLength(1);
    expect(reader[0]).toMatchObject({ name: ROLE.blobReader, roleType: 'BuiltInRole', permissions: [{ dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'] }] });
    expect((await authorization.roleDefinitions.getById(roleId(ROLE.owner))).roleName).toBe('Owner');
  });

  it('a bearer token reads and writes only where a data role reaches: the container assigned, not its neighbour', async () => {
    const blobs = blobsOf(app);
    // Reader on the group: containers may be listed (an action), no blob read (a data action).
    expect((await blobs.listContainers().byPage().next()).value.containerItems.map((c: { name: string }) => c.name)).toEqual(['data', 'other']);
    expect(statusAndCode(await errorOf(blobs.getContainerClient('data').getBlockBlobClient('x').upload('x', 1)))).toEqual([403, 'AuthorizationPermissionMismatch']);

    const assignment = await authorization.roleAssignments.create(`${accountA}/blobServices/default/containers/data`, randomUUID(), {
      roleDefinitionId: roleId(ROLE.blobContributor),
      principalId: app.clientId,
      principalType: 'ServicePrincipal',
    });
    expect(assignment).toMatchObject({ principalId: app.clientId, scope: `${accountA}/blobServices/default/containers/data`, roleDefinitionId: roleId(ROLE.blobContributor) });
    // The role takes effect from the very next request (the data plane had cached the principal's roles).
    await blobs.getContainerClient('data').getBlockBlobClient('hello.txt').upload('keyless', 7);
    expect((await blobs.getContainerClient('data').getBlobClient('hello.txt').downloadToBuffer()).toString()).toBe('keyless');
    const refused = await errorOf(blobs.getContainerClient('other').getBlockBlobClient('x').upload('x', 1));
    expect(statusAndCode(refused)).toEqual([403, 'AuthorizationPermissionMismatch']);
    expect((refused as Error).message).toMatch(/Storage Blob Data Contributor/);
    // Another account's container: no role there at all.
    expect(statusAndCode(await errorOf(blobsOf(app, 'keylessb').getContainerClient('data').exists()))).toEqual([403, 'AuthorizationPermissionMismatch']);

    await authorization.roleAssignments.deleteById(assignment.id!);
    expect(statusAndCode(await errorOf(blobs.getContainerClient('data').getBlobClient('hello.txt').downloadToBuffer()))).toEqual([403, 'AuthorizationPermissionMismatch']);
  });

  it('File shares take a token with backup intent and a File Data Privileged role at the share', async () => {
    const ownerFiles = new ShareServiceClient(`${server.fileHttps}/keylessa`, credentialOf(adminSecret(server)), { ...tls(), fileRequestIntent: 'backup' });
    await ownerFiles.getShareClient('team').create();
    await authorization.roleAssignments.create(`${accountA}/fileServices/default/fileshares/team`, randomUUID(), {
      roleDefinitionId: roleId(ROLE.filePrivilegedContributor),
      principalId: app.clientId,
    });
    const files = new ShareServiceClient(`${server.fileHttps}/keylessa`, credentialOf(app), { ...tls(), fileRequestIntent: 'backup' });
    const file = files.getShareClient('team').rootDirectoryClient.getFileClient('notes.txt');
    await file.uploadData(Buffer.from('files too'));
    expect((await file.downloadToBuffer()).toString()).toBe('files too');
    const withoutIntent = new ShareServiceClient(`${server.fileHttps}/keylessa`, credentialOf(app), tls());
    expect(statusAndCode(await errorOf(withoutIntent.getShareClient('team').rootDirectoryClient.getFileClient('notes.txt').downloadToBuffer()))).toEqual([
      400,
      'MissingRequiredHeader',
    ]);
  });

  it('refuses bad tokens with 401 InvalidAuthenticationInfo and the challenge; never over plain HTTP', async () => {
    const storageToken = (await credentialOf(app).getToken('https://storage.azure.com/.default'))!.token;
    const managementToken = await tokenFor(server, app);
    const get = (base: string, authorization: string, version = '2025-11-05') =>
      new Promise<{ status: number; code?: string; challenge?: string }>((resolve, reject) => {
        const url = new URL(`${base}/keylessa/data?restype=container`);
        const request = (url.protocol === 'https:' ? https : http).request(
          url,
          { headers: { ...(authorization && { authorization }), 'x-ms-version': version }, ca: fs.readFileSync(server.caFile) },
          (res: http.IncomingMessage) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, code: res.headers['x-ms-error-code'] as string, challenge: res.headers['www-authenticate'] as string }));
          },
        );
        request.on('error', reject);
        request.end();
      });
    for (const header of [`Bearer ${storageToken.slice(0, -4)}AAAA`, `Bearer ${managementToken}`, 'Bearer not.a.jwt', `Bearer ${'a'.repeat(9000)}`, 'Bearer']) {
      const answer = await get(server.blobHttps, header);
      expect([answer.status, answer.code]).toEqual([401, 'InvalidAuthenticationInfo']);
      expect(answer.challenge).toBe(`Bearer authorization_uri=${server.authority}/${server.tenantId}/oauth2/authorize resource_id=https://storage.azure.com`);
    }
    expect((await get(server.blob, `Bearer ${storageToken}`)).status).toBe(401);
    // Before 2017-11-09 the service took no tokens.
    expect(await get(server.blobHttps, `Bearer ${storageToken}`, '2017-07-29')).toMatchObject({ status: 403, code: 'AuthenticationFailed' });
    // An unsigned request to a private container is refused with the challenge too (service versions from 2019-12-12 on).
    const anonymous = await get(server.blobHttps, '');
    expect([anonymous.status, anonymous.code]).toEqual([401, 'NoAuthenticationInformation']);
    expect(anonymous.challenge).toMatch(/^Bearer authorization_uri=.* resource_id=https:\/\/storage\.azure\.com$/);
    const older = await get(server.blobHttps, '', '2019-07-07');
    expect([older.status, older.code, older.challenge]).toEqual([404, 'ResourceNotFound', undefined]);
    // The same good token is accepted on HTTPS (Reader may read container properties: an action).
    expect((await get(server.blobHttps, `Bearer ${storageToken}`)).status).toBe(200);
    expect(server.output()).not.toContain(storageToken);
  });

  it('scopes management roles too: Contributor on one group cannot list the keys of an account in another, nor assign roles', async () => {
    const contributor = await createPrincipal('Contributor', [groupA]);
    const { storage } = managementClients(server, contributor);
    expect((await storage.storageAccounts.listKeys('keyless-a', 'keylessa')).keys).toHaveLength(2);
    expect(armStatus(await errorOf(storage.storageAccounts.listKeys('keyless-b', 'keylessb')))).toEqual([403, 'AuthorizationFailed']);
    const asContributor = new AuthorizationManagementClient(credentialOf(contributor), server.subscriptionId, { endpoint: server.arm, ...trustCa(server.caFile) });
    const refused = await errorOf(asContributor.roleAssignments.create(accountA, randomUUID(), { roleDefinitionId: roleId(ROLE.owner), principalId: contributor.clientId }));
    expect(armStatus(refused)).toEqual([403, 'AuthorizationFailed']);
  });

  it('refuses bad assignments with ARM errors that say what to fix', async () => {
    const create = (scope: string, name: string, roleDefinitionId: string, principalId: string) =>
      errorOf(authorization.roleAssignments.create(scope, name, { roleDefinitionId, principalId }));
    expect(armStatus(await create(accountA, randomUUID(), roleId('00000000-0000-4000-8000-000000000000'), app.clientId))).toEqual([400, 'RoleDefinitionDoesNotExist']);
    expect(armStatus(await create(accountA, randomUUID(), roleId(ROLE.blobReader), randomUUID()))).toEqual([400, 'PrincipalNotFound']);
    expect(armStatus(await create(accountA, 'not-a-guid', roleId(ROLE.blobReader), app.clientId))).toEqual([400, 'InvalidRoleAssignmentId']);
    // Nobody holds a role in a subscription this server is not.
    expect(armStatus(await create(`/subscriptions/${randomUUID()}`, randomUUID(), roleId(ROLE.blobReader), app.clientId))).toEqual([403, 'AuthorizationFailed']);
    expect(armStatus(await create(`/subscriptions/${server.subscriptionId}/resourceGroups/nope`, randomUUID(), roleId(ROLE.blobReader), app.clientId))).toEqual([404, 'ResourceGroupNotFound']);
    expect(armStatus(await create(`${groupA}/providers/Microsoft.Storage/storageAccounts/nope`, randomUUID(), roleId(ROLE.blobReader), app.clientId))).toEqual([404, 'ResourceNotFound']);
    const first = await authorization.roleAssignments.create(accountA, randomUUID(), { roleDefinitionId: roleId(ROLE.blobReader), principalId: app.clientId });
    expect(armStatus(await create(accountA.toUpperCase().replace('/SUBSCRIPTIONS/', '/subscriptions/'), randomUUID(), roleId(ROLE.blobReader), app.clientId))).toEqual([409, 'RoleAssignmentExists']);
    await authorization.roleAssignments.delete(accountA, first.name!);
  });

  it('lists assignments at, above and below a scope, by principal; the CLI shapes them as az role does', async () => {
    const listed = [];
    for await (const assignment of authorization.roleAssignments.listForScope(accountA, { filter: `principalId eq '${app.clientId}'` })) listed.push(assignment);
    // Reader on the group (above) and File Data Privileged Contributor on the share (below).
    expect(listed.map((assignment) => assignment.roleDefinitionId!.split('/').pop()).sort()).toEqual([ROLE.filePrivilegedContributor, 'acdd72a7-3385-48ef-bd42-f606fba81ae7'].sort());
    const atScope = [];
    for await (const assignment of authorization.roleAssignments.listForScope(accountA, { filter: `atScope() and principalId eq '${app.clientId}'` })) atScope.push(assignment);
    expect(atScope.map((assignment) => assignment.scope)).toEqual([groupA]);

    const env = { MLSPACE_HOME: home };
    expect((await runCli(['login', '-o', 'none'], { env })).code).toBe(0);
    const created = await runCli(['role', 'assignment', 'create', '--assignee', app.clientId, '--role', 'Storage Blob Data Reader', '--scope', accountA], { env });
    expect(created.stderr).toBe('');
    expect(JSON.parse(created.stdout)).toMatchObject({ principalId: app.clientId, roleDefinitionName: 'Storage Blob Data Reader', scope: accountA, resourceGroup: 'keyless-a' });
    const table = await runCli(['role', 'assignment', 'list', '--assignee', app.clientId, '--scope', accountA, '-o', 'table'], { env });
    expect(table.stdout).toMatch(/Storage Blob Data Reader/);
    expect((await runCli(['role', 'assignment', 'delete', '--assignee', app.clientId, '--role', 'Storage Blob Data Reader', '--scope', accountA], { env })).code).toBe(0);
    const after = await runCli(['role', 'assignment', 'list', '--assignee', app.clientId, '--scope', accountA, '--query', '[].roleDefinitionName', '-o', 'tsv'], { env });
    expect(after.stdout.split('\n').filter(Boolean).sort()).toEqual(['Reader', 'Storage File Data Privileged Contributor']);
    const definitions = await runCli(['role', 'definition', 'list', '--name', 'storage blob delegator', '--query', '[0].permissions[0].actions', '-o', 'tsv'], { env });
    expect(definitions.stdout.trim()).toBe('Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action');
    const unknown = await runCli(['role', 'assignment', 'create', '--assignee', app.clientId, '--role', 'Superuser', '--scope', accountA], { env });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/Role 'Superuser' doesn't exist/);
  });
  describe('user delegation SAS', () => {
    let signer: ClientSecret;
    let containerScope: string;
    beforeAll(async () => {
      containerScope = `${accountA}/blobServices/default/containers/data`;
      signer = await delegatingReader();
      const writer = blobsOf(adminSecret(server));
      await authorization.roleAssignments.create(containerScope, randomUUID(), { roleDefinitionId: roleId(ROLE.blobContributor), principalId: adminSecret(server).clientId });
      await writer.getContainerClient('data').getBlockBlobClient('shared.txt').upload('delegated', 9);
    });
    /** Reads one container; may get user delegation keys, which takes a role at the account (Storage Blob Delegator). */
    const delegatingReader = async () => {
      const reader = await createPrincipal('Storage Blob Data Reader', [containerScope]);
      await authorization.roleAssignments.create(accountA, randomUUID(), { roleDefinitionId: roleId(ROLE.delegator), principalId: reader.clientId });
      return reader;
    };
    const keyFor = (secret: ClientSecret, hours = 1) => blobsOf(secret).getUserDelegationKey(new Date(Date.now() - 60_000), new Date(Date.now() + hours * 3600_000));
    const sasUrl = (key: Awaited<ReturnType<typeof keyFor>>, permissions: string, blobName?: string) => {
      const query = generateBlobSASQueryParameters(
        { containerName: 'data', blobName, permissions: blobName ? BlobSASPermissions.parse(permissions) : ContainerSASPermissions.parse(permissions), expiresOn: new Date(Date.now() + 3600_000) },
        key,
        'keylessa',
      ).toString();
      return `${server.blob}/keylessa/data${blobName ? `/${blobName}` : ''}?${query}`;
    };

    it('is issued to a token, used over plain HTTP like any SAS, and held to its permissions and the signer\'s roles at use', async () => {
      const key = await keyFor(signer);
      expect(key).toMatchObject({ signedObjectId: signer.clientId, signedTenantId: server.tenantId, signedService: 'b' });
      expect((await new BlobClient(sasUrl(key, 'r', 'shared.txt')).downloadToBuffer()).toString()).toBe('delegated');
      const container = new ContainerClient(sasUrl(key, 'rl'));
      expect((await container.listBlobsFlat().byPage().next()).value.segment.blobItems.map((b: { name: string }) => b.name)).toContain('shared.txt');
      // The SAS says read only.
      expect(statusAndCode(await errorOf(new BlobClient(sasUrl(key, 'r', 'new.txt')).getBlockBlobClient().upload('x', 1)))).toEqual([403, 'AuthorizationPermissionMismatch']);
      // The SAS says write, but its signer may only read.
      const refused = await errorOf(new BlobClient(sasUrl(key, 'rw', 'new.txt')).getBlockBlobClient().upload('x', 1));
      expect(statusAndCode(refused)).toEqual([403, 'AuthorizationPermissionMismatch']);
      expect(refused.message).toMatch(/signer of this user delegation SAS/);
      // A changed parameter breaks the signature.
      expect(statusAndCode(await errorOf(new BlobClient(sasUrl(key, 'r', 'shared.txt').replace('sp=r', 'sp=rw')).downloadToBuffer()))).toEqual([403, 'AuthenticationFailed']);
    });

    it('keeps working with Shared Key turned off, which refuses keys and key-signed SAS until it is turned back on', async () => {
      const key = await keyFor(signer);
      const url = sasUrl(key, 'r', 'shared.txt');
      const keys = await admin.storage.storageAccounts.listKeys('keyless-a', 'keylessa');
      const keyed = new BlobServiceClient(`${server.blob}/keylessa`, new StorageSharedKeyCredential('keylessa', keys.keys![0]!.value!), { retryOptions: { maxTries: 1 } });
      const env = { MLSPACE_HOME: home };
      expect((await runCli(['login', '-o', 'none'], { env })).code).toBe(0);
      const off = await runCli(['storage', 'account', 'update', '-g', 'keyless-a', '-n', 'keylessa', '--allow-shared-key-access', 'false', '--query', 'allowSharedKeyAccess', '-o', 'tsv'], { env });
      // As az prints a boolean in tsv.
      expect(off.stdout.trim()).toBe('False');
      const keyRefused = await errorOf(keyed.getContainerClient('data').getBlobClient('shared.txt').downloadToBuffer());
      expect(statusAndCode(keyRefused)).toEqual([403, 'KeyBasedAuthenticationNotPermitted']);
      expect((await new BlobClient(url).downloadToBuffer()).toString()).toBe('delegated');
      expect((await blobsOf(adminSecret(server)).getContainerClient('data').getBlobClient('shared.txt').downloadToBuffer()).toString()).toBe('delegated');
      await admin.storage.storageAccounts.update('keyless-a', 'keylessa', { allowSharedKeyAccess: true });
      expect((await keyed.getContainerClient('data').getBlobClient('shared.txt').downloadToBuffer()).toString()).toBe('delegated');
    });

    it('fails once the signer loses its role, and every SAS of the account fails after revokeUserDelegationKeys', async () => {
      const other = await delegatingReader();
      const [signerKey, otherKey] = [await keyFor(signer), await keyFor(other)];
      const otherUrl = sasUrl(otherKey, 'r', 'shared.txt');
      expect((await new BlobClient(otherUrl).downloadToBuffer()).toString()).toBe('delegated');
      const reading = (await listFor(other.clientId)).find((assignment) => assignment.roleDefinitionId!.endsWith(ROLE.blobReader));
      await authorization.roleAssignments.deleteById(reading!.id!);
      expect(statusAndCode(await errorOf(new BlobClient(otherUrl).downloadToBuffer()))).toEqual([403, 'AuthorizationPermissionMismatch']);

      const url = sasUrl(signerKey, 'r', 'shared.txt');
      expect((await new BlobClient(url).downloadToBuffer()).toString()).toBe('delegated');
      await admin.storage.storageAccounts.revokeUserDelegationKeys('keyless-a', 'keylessa');
      expect(statusAndCode(await errorOf(new BlobClient(url).downloadToBuffer()))).toEqual([403, 'AuthenticationFailed']);
      // A key issued after the revocation works.
      expect((await new BlobClient(sasUrl(await keyFor(signer), 'r', 'shared.txt')).downloadToBuffer()).toString()).toBe('delegated');
      // The revocation survives an account update (it is kept with the account's settings).
      await admin.storage.storageAccounts.update('keyless-a', 'keylessa', { tags: { team: 'a' } });
      expect(statusAndCode(await errorOf(new BlobClient(url).downloadToBuffer()))).toEqual([403, 'AuthenticationFailed']);
    });

    it('refuses keys with bad times, and asked for with anything but a token', async () => {
      const blobs = blobsOf(signer);
      const now = Date.now();
      expect(statusAndCode(await errorOf(blobs.getUserDelegationKey(new Date(now), new Date(now + 8 * 24 * 3600_000))))).toEqual([400, 'InvalidXmlNodeValue']);
      expect(statusAndCode(await errorOf(blobs.getUserDelegationKey(new Date(now), new Date(now - 60_000))))).toEqual([400, 'InvalidXmlNodeValue']);
      const keys = await admin.storage.storageAccounts.listKeys('keyless-a', 'keylessa');
      const keyed = new BlobServiceClient(`${server.blob}/keylessa`, new StorageSharedKeyCredential('keylessa', keys.keys![0]!.value!), { retryOptions: { maxTries: 1 } });
      expect(statusAndCode(await errorOf(keyed.getUserDelegationKey(new Date(now), new Date(now + 3600_000))))).toEqual([403, 'AuthenticationFailed']);
      // A data role on a container alone does not reach the key: that takes a role at the account.
      const containerOnly = await createPrincipal('Storage Blob Data Reader', [containerScope]);
      const refused = await errorOf(keyFor(containerOnly));
      expect(statusAndCode(refused)).toEqual([403, 'AuthorizationPermissionMismatch']);
      expect(refused.message).toMatch(/Storage Blob Delegator, at the storage account or above/);
    });

    it('authorizes a copy source by a user delegation SAS, or by a bearer token in x-ms-copy-source-authorization, on its own', async () => {
      // The destination is another account's, signed with its key: the source's own credential must allow reading it.
      const keysB = await admin.storage.storageAccounts.listKeys('keyless-b', 'keylessb');
      const copies = new BlobServiceClient(`${server.blobHttps}/keylessb`, new StorageSharedKeyCredential('keylessb', keysB.keys![0]!.value!), tls()).getContainerClient('copies');
      await copies.createIfNotExists();
      const key = await keyFor(signer);
      await copies.getBlockBlobClient('by-sas.txt').syncCopyFromURL(sasUrl(key, 'r', 'shared.txt').replace(server.blob, server.blobHttps));
      expect((await copies.getBlobClient('by-sas.txt').downloadToBuffer()).toString()).toBe('delegated');
      const forged = await errorOf(copies.getBlockBlobClient('x').syncCopyFromURL(sasUrl(key, 'r', 'shared.txt').replace('sp=r', 'sp=rw').replace(server.blob, server.blobHttps)));
      expect(statusAndCode(forged)).toEqual([403, 'CannotVerifyCopySource']);
      expect(forged.message).toMatch(/user delegation SAS does not allow reading it/);

      const token = (await credentialOf(signer).getToken('https://storage.azure.com/.default'))!.token;
      const sourceAuthorization = { scheme: 'Bearer', value: token };
      const shared = `${server.blobHttps}/keylessa/data/shared.txt`;
      await copies.getBlockBlobClient('by-token.txt').syncCopyFromURL(shared, { sourceAuthorization });
      expect((await copies.getBlobClient('by-token.txt').downloadToBuffer()).toString()).toBe('delegated');
      const blocks = copies.getBlockBlobClient('by-token-blocks.txt');
      await blocks.stageBlockFromURL(btoa('b1'), shared, 0, 9, { sourceAuthorization });
      await blocks.commitBlockList([btoa('b1')]);
      expect((await blocks.downloadToBuffer()).toString()).toBe('delegated');

      // Without a token, the private source is refused; with one whose principal cannot read the source, too.
      expect(statusAndCode(await errorOf(copies.getBlockBlobClient('x').syncCopyFromURL(shared)))).toEqual([404, 'CannotVerifyCopySource']);
      const keysA = await admin.storage.storageAccounts.listKeys('keyless-a', 'keylessa');
      await new BlobServiceClient(`${server.blob}/keylessa`, new StorageSharedKeyCredential('keylessa', keysA.keys![0]!.value!)).getContainerClient('other').getBlockBlobClient('private.txt').upload('private', 7);
      const unreadable = await errorOf(copies.getBlockBlobClient('x').syncCopyFromURL(`${server.blobHttps}/keylessa/other/private.txt`, { sourceAuthorization }));
      expect(statusAndCode(unreadable)).toEqual([403, 'CannotVerifyCopySource']);
      expect(unreadable.message).toMatch(/bearer token does not allow reading it.*blobs\/read/);
      const badToken = await errorOf(copies.getBlockBlobClient('x').syncCopyFromURL(shared, { sourceAuthorization: { scheme: 'Bearer', value: `${token}x` } }));
      expect(statusAndCode(badToken)).toEqual([401, 'CannotVerifyCopySource']);
      const badScheme = await errorOf(copies.getBlockBlobClient('x').syncCopyFromURL(shared, { sourceAuthorization: { scheme: 'Basic', value: 'dXNlcjpwYXNz' } }));
      expect(statusAndCode(badScheme)).toEqual([400, 'InvalidHeaderValue']);
      expect(badScheme.message).toMatch(/x-ms-copy-source-authorization/);
    });

    const listFor = async (principalId: string) => {
      const found = [];
      for await (const assignment of authorization.roleAssignments.listForScope(accountA, { filter: `principalId eq '${principalId}'` })) found.push(assignment);
      return found;
    };
  });
  describe('consumers on the way to keyless', () => {
    it('a workspace gets a system identity that roles can be given to; identity datastores are listed as keyless; Shared Key is not turned off under key-based consumers without --force', async () => {
      const workspace = await admin.ml.workspaces.beginCreateOrUpdateAndWait('keyless-a', 'keylessws', { location: 'westeurope', storageAccount: accountA });
      expect(workspace.identity).toMatchObject({ type: 'SystemAssigned', tenantId: server.tenantId });
      const principalId = workspace.identity!.principalId!;
      expect(principalId).toMatch(/^[0-9a-f-]{36}$/);
      const granted = await authorization.roleAssignments.create(accountA, randomUUID(), { roleDefinitionId: roleId(ROLE.blobContributor), principalId, principalType: 'ServicePrincipal' });
      expect(granted.principalId).toBe(principalId);
      // The identity has no secret: nothing signs in as it.
      const signIn = new ClientSecretCredential(server.tenantId, principalId, 'a-guessed-secret', { authorityHost: server.authority, disableInstanceDiscovery: true, ...trustCa(server.caFile) });
      await expect(signIn.getToken('https://storage.azure.com/.default')).rejects.toThrow();
      // Kept across an update.
      expect((await admin.ml.workspaces.beginUpdateAndWait('keyless-a', 'keylessws', { tags: { team: 'a' } })).identity?.principalId).toBe(principalId);

      await admin.ml.datastores.createOrUpdate('keyless-a', 'keylessws', 'byidentity', {
        properties: { datastoreType: 'AzureBlob', accountName: 'keylessa', containerName: 'data', credentials: { credentialsType: 'None' } },
      });
      const env = { MLSPACE_HOME: home };
      expect((await runCli(['login', '-o', 'none'], { env })).code).toBe(0);
      const listed = JSON.parse((await runCli(['storage', 'account', 'keys', 'consumers', '-g', 'keyless-a', '-n', 'keylessa', '-o', 'json'], { env })).stdout);
      expect(listed.value.find((consumer: { datastoreName?: string }) => consumer.datastoreName === 'byidentity')).toMatchObject({ credentialsType: 'None', matches: 'keyless' });
      expect(listed.counts.keyless).toBe(1);
      const readiness = JSON.parse((await runCli(['storage', 'account', 'keys', 'consumers', '-g', 'keyless-a', '-n', 'keylessa', '--keyless-readiness', '-o', 'json'], { env })).stdout);
      expect(readiness).toMatchObject({ ready: false, keyless: 1 });
      // The workspace's own key copy and its key-holding system datastores.
      expect(readiness.blocking.map((consumer: { id: string }) => consumer.id.split('/').slice(-2).join('/'))).toEqual(
        expect.arrayContaining(['workspaces/keylessws', 'datastores/workspaceblobstore', 'datastores/workspacefilestore']),
      );
      const table = await runCli(['storage', 'account', 'keys', 'consumers', '-g', 'keyless-a', '-n', 'keylessa', '--keyless-readiness', '-o', 'table'], { env: { ...env, COLUMNS: '120' } });
      expect(table.stdout).toMatch(/keylessws\/datastores\/workspaceblobstore/);

      const refused = await runCli(['storage', 'account', 'update', '-g', 'keyless-a', '-n', 'keylessa', '--allow-shared-key-access', 'false'], { env });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/KeyBasedConsumersExist|would break \d+ consumer/);
      expect(refused.stderr).toMatch(/keylessws/);
      expect((await admin.storage.storageAccounts.getProperties('keyless-a', 'keylessa')).allowSharedKeyAccess).toBe(true);
      const forced = await runCli(['storage', 'account', 'update', '-g', 'keyless-a', '-n', 'keylessa', '--allow-shared-key-access', 'false', '--force', '--query', 'allowSharedKeyAccess', '-o', 'tsv'], { env });
      expect(forced.stdout.trim()).toBe('False');
      await admin.storage.storageAccounts.update('keyless-a', 'keylessa', { allowSharedKeyAccess: true });
    });
    it('service-principal datastores: validated with a token for the principal, their secret sealed, listed as keyless and as the principal\'s consumers', async () => {
      const reader = await createPrincipal('Reader', [groupA]);
      const body = (secret: string, container = 'data') => ({
        properties: {
          datastoreType: 'AzureBlob' as const,
          accountName: 'keylessa',
          containerName: container,
          credentials: { credentialsType: 'ServicePrincipal' as const, tenantId: server.tenantId, clientId: reader.clientId, secrets: { secretsType: 'ServicePrincipal' as const, clientSecret: secret } },
        },
      });
      // No data role on the container yet: the validation's token is refused, and says which role to give.
      const noRole = await errorOf(admin.ml.datastores.createOrUpdate('keyless-a', 'keylessws', 'byprincipal', body(reader.clientSecret)));
      expect(armStatus(noRole)).toEqual([400, 'DatastoreValidationFailed']);
      expect(noRole.message).toMatch(/has no data role on the container 'data': assign it Storage Blob Data Reader/);
      await authorization.roleAssignments.create(`${accountA}/blobServices/default/containers/data`, randomUUID(), { roleDefinitionId: roleId(ROLE.blobReader), principalId: reader.clientId });
      const wrongSecret = await errorOf(admin.ml.datastores.createOrUpdate('keyless-a', 'keylessws', 'byprincipal', body('not-its-secret')));
      expect(wrongSecret.message).toMatch(/the client secret is not valid for service principal/);
      expect(wrongSecret.message).not.toContain('not-its-secret');
      const saved = await admin.ml.datastores.createOrUpdate('keyless-a', 'keylessws', 'byprincipal', body(reader.clientSecret));
      expect(saved.properties.credentials).toEqual({ credentialsType: 'ServicePrincipal', tenantId: server.tenantId, clientId: reader.clientId });
      expect(await admin.ml.datastores.listSecrets('keyless-a', 'keylessws', 'byprincipal')).toMatchObject({ secretsType: 'ServicePrincipal', clientSecret: reader.clientSecret });
      expect(await storedMetadata(server)).not.toContain(reader.clientSecret);

      const env = { MLSPACE_HOME: home };
      const listed = JSON.parse((await runCli(['storage', 'account', 'keys', 'consumers', '-g', 'keyless-a', '-n', 'keylessa', '-o', 'json'], { env })).stdout);
      expect(listed.value.find((consumer: { datastoreName?: string }) => consumer.datastoreName === 'byprincipal')).toMatchObject({
        credentialsType: 'ServicePrincipal',
        servicePrincipal: { clientId: reader.clientId },
        matches: 'keyless',
      });
      const ofPrincipal = JSON.parse((await runCli(['ad', 'sp', 'consumers', '--id', reader.clientId, '-o', 'json'], { env })).stdout);
      expect(ofPrincipal).toEqual([expect.objectContaining({ workspaceName: 'keylessws', datastoreName: 'byprincipal', accountName: 'keylessa' })]);
      const unknown = await runCli(['ad', 'sp', 'consumers', '--id', randomUUID()], { env });
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toMatch(/PrincipalNotFound/);
    });
    it('a workspace switches to identity access once its identity reaches every system container and share; then regenerating both keys breaks nothing, and sync-keys has nothing to do', async () => {
      const env = { MLSPACE_HOME: home };
      const cli = (...args: string[]) => runCli(args, { env });
      const principalId = (await admin.ml.workspaces.get('keyless-a', 'keylessws')).identity!.principalId!;
      // Blob Data Contributor on the account (given above) does not reach the file share.
      const refused = await cli('ml', 'workspace', 'update', '-n', 'keylessws', '-g', 'keyless-a', '--system-datastores-auth-mode', 'identity');
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/WorkspaceIdentityCannotAccess.*workspacefilestore.*Storage File Data Privileged Reader/s);
      const before = JSON.parse((await cli('storage', 'account', 'keys', 'consumers', '-g', 'keyless-a', '-n', 'keylessa', '-o', 'json')).stdout);
      expect(before.value.some((consumer: { kind: string }) => consumer.kind === 'workspace')).toBe(true);

      await authorization.roleAssignments.create(accountA, randomUUID(), { roleDefinitionId: roleId(ROLE.filePrivilegedContributor), principalId });
      const switched = JSON.parse((await cli('ml', 'workspace', 'update', '-n', 'keylessws', '-g', 'keyless-a', '--system-datastores-auth-mode', 'identity', '-o', 'json')).stdout);
      expect(switched).toMatchObject({ system_datastores_auth_mode: 'identity', identity: { type: 'SystemAssigned', principal_id: principalId } });
      expect((await admin.ml.workspaces.listKeys('keyless-a', 'keylessws')).userStorageKey ?? '').toBe('');
      expect((await admin.ml.datastores.get('keyless-a', 'keylessws', 'workspaceblobstore')).properties.credentials.credentialsType).toBe('None');
      const readiness = JSON.parse((await cli('storage', 'account', 'keys', 'consumers', '-g', 'keyless-a', '-n', 'keylessa', '--keyless-readiness', '-o', 'json')).stdout);
      expect(readiness).toMatchObject({ ready: true, keyBased: 0, blocking: [] });

      for (const keyName of ['key1', 'key2']) await admin.storage.storageAccounts.regenerateKey('keyless-a', 'keylessa', { keyName });
      const sync = await cli('ml', 'workspace', 'sync-keys', '-n', 'keylessws', '-g', 'keyless-a');
      expect(sync.code).toBe(0);
      expect(sync.stderr).toMatch(/holds no key: there is nothing to synchronize/);
      // Every consumer still works: the principal's datastore validates again, and the workspace's identity passes the data-plane check again.
      await admin.ml.datastores.createOrUpdate('keyless-a', 'keylessws', 'byprincipal', {
        properties: {
          datastoreType: 'AzureBlob',
          accountName: 'keylessa',
          containerName: 'data',
          credentials: { credentialsType: 'ServicePrincipal', tenantId: server.tenantId, clientId: (await admin.ml.datastores.get('keyless-a', 'keylessws', 'byprincipal')).properties.credentials.clientId as string, secrets: { secretsType: 'ServicePrincipal', clientSecret: (await admin.ml.datastores.listSecrets('keyless-a', 'keylessws', 'byprincipal') as { clientSecret: string }).clientSecret } },
        } as never,
      });
      expect((await cli('ml', 'workspace', 'update', '-n', 'keylessws', '-g', 'keyless-a', '--system-datastores-auth-mode', 'accessKey')).code).toBe(0);
      expect((await cli('ml', 'workspace', 'update', '-n', 'keylessws', '-g', 'keyless-a', '--system-datastores-auth-mode', 'identity')).code).toBe(0);
      // Nothing holds a key now: Shared Key goes off without --force.
      expect((await cli('storage', 'account', 'update', '-g', 'keyless-a', '-n', 'keylessa', '--allow-shared-key-access', 'false')).code).toBe(0);
      await admin.storage.storageAccounts.update('keyless-a', 'keylessa', { allowSharedKeyAccess: true });
      // And back to keys: the workspace and its system datastores take key1 again.
      expect((await cli('ml', 'workspace', 'update', '-n', 'keylessws', '-g', 'keyless-a', '--system-datastores-auth-mode', 'accessKey')).code).toBe(0);
      const keys = await admin.storage.storageAccounts.listKeys('keyless-a', 'keylessa');
      expect((await admin.ml.workspaces.listKeys('keyless-a', 'keylessws')).userStorageKey).toBe(keys.keys![0]!.value);
    });
  });
});


