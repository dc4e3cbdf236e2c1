import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cliIn, runCli, type CliResult } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

function ok(result: CliResult): CliResult {
  expect(result.code, result.stderr).toBe(0);
  return result;
}

/** The failure is one line on stderr and nothing on stdout; returns that line. */
function oneLine(result: CliResult, exitCode: number): string {
  expect([result.code, result.stdout], result.stderr).toEqual([exitCode, '']);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).not.toMatch(/\bat .+:\d+:\d+/);
  return lines[0]!;
}

describe('the mlspace CLI: login, output formats, --query and bad input', { timeout: 90_000 }, () => {
  let home: string;
  let server: TestServer;
  let cli: ReturnType<typeof cliIn>;
  let work: string;

  beforeAll(async () => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-cli-'));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-cli-work-'));
    server = await startTestServer({ dataDir: path.join(home, 'data') });
    cli = cliIn(home);
  });
  afterAll(async () => {
    await server?.stop();
    for (const dir of [home, work]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('commands before login say to log in; logout forgets the login', async () => {
    expect(oneLine(await cli('group', 'list'), 1)).toBe("ERROR: Please run 'mlspace login' to setup account.");
    expect(oneLine(await cli('account', 'show'), 1)).toBe("ERROR: Please run 'mlspace login' to setup account.");
    ok(await cli('login', '-o', 'none'));
    const account = JSON.parse(ok(await cli('account', 'show')).stdout);
    expect(account).toMatchObject({ id: server.subscriptionId, tenantId: server.tenantId, managementEndpoint: server.arm });
    const admin = JSON.parse(fs.readFileSync(server.adminClientFile, 'utf8'));
    expect(account.user.name).toBe(admin.clientId);
    expect(JSON.stringify(account)).not.toContain(admin.clientSecret);
    ok(await cli('logout'));
    expect(fs.existsSync(path.join(home, 'config', 'client-secret'))).toBe(false);
    expect(oneLine(await cli('logout'), 1)).toBe('ERROR: There are no active accounts.');
    ok(await cli('login', '-o', 'none'));
  });

  test('a token is cached with the login and used until it nears expiry, so commands make no token request', async () => {
    ok(await cli('login', '-o', 'none'));
    ok(await cli('group', 'list', '-o', 'none'));
    const cache = path.join(home, 'config', 'token-cache.json');
    expect(fs.statSync(cache).mode & 0o777).toBe(0o600);
    const secretFile = path.join(home, 'config', 'client-secret');
    const secret = fs.readFileSync(secretFile, 'utf8');
    expect(fs.readFileSync(cache, 'utf8')).not.toContain(secret);
    try {
      // With a wrong secret on disk, only the cached token can make this work.
      fs.writeFileSync(secretFile, 'not-the-secret');
      ok(await cli('group', 'list', '-o', 'none'));
      // An expired token is not used: a new one is asked for, which the wrong secret cannot get.
      const entries = JSON.parse(fs.readFileSync(cache, 'utf8'));
      for (const entry of Object.values(entries) as { expiresOn: number }[]) entry.expiresOn = Date.now() + 60_000;
      fs.writeFileSync(cache, JSON.stringify(entries));
      expect(oneLine(await cli('group', 'list'), 1)).toMatch(/^ERROR: Signing in failed: \(invalid_client\) Invalid client secret provided\..* Run 'mlspace login' again\.$/);
    } finally {
      fs.writeFileSync(secretFile, secret);
    }
    ok(await cli('group', 'list', '-o', 'none'));
  });

  test('one result in every --output format', async () => {
    ok(await cli('group', 'create', '-n', 'rg-out', '-l', 'westeurope', '--tags', 'team=ml', 'env=dev', '-o', 'none'));
    const json = JSON.parse(ok(await cli('group', 'show', '-n', 'rg-out')).stdout);
    expect(json).toEqual({
      id: `/subscriptions/${server.subscriptionId}/resourceGroups/rg-out`,
      name: 'rg-out',
      type: 'Microsoft.Resources/resourceGroups',
      location: 'westeurope',
      tags: { team: 'ml', env: 'dev' },
      properties: { provisioningState: 'Succeeded' },
    });
    // Independent reads run side by side: each CLI run is a Node process that mostly waits on start-up.
    const [jsonc, yaml, tsv, table, none] = await Promise.all(['jsonc', 'yaml', 'tsv', 'table', 'none'].map((format) => cli('group', 'show', '-n', 'rg-out', '-o', format)));
    // Not a terminal: jsonc is plain JSON, without color codes.
    expect(JSON.parse(ok(jsonc!).stdout)).toEqual(json);
    expect(YAML.parse(ok(yaml!).stdout)).toEqual(json);
    expect(ok(tsv!).stdout).toBe(`${json.id}\trg-out\tMicrosoft.Resources/resourceGroups\twesteurope\n`);
    const rows = ok(table!).stdout.split('\n');
    // As az's tables: no resource id, ETag or ARM resource type, so rows fit a terminal.
    expect(rows[0]).toMatch(/^Name +Location$/);
    expect(rows[1]).toMatch(/^-+ {2}-+$/);
    expect(rows[2]).toMatch(/^rg-out +westeurope$/);
    expect(ok(none!).stdout).toBe('');
  });

  test('--query selects before formatting; tables pick az-like columns', async () => {
    expect(ok(await cli('group', 'show', '-n', 'rg-out', '--query', 'tags.team', '-o', 'tsv')).stdout).toBe('ml\n');
    expect(ok(await cli('group', 'list', '--query', "[?location=='westeurope'].name", '-o', 'tsv')).stdout).toBe('rg-out\n');
    expect(JSON.parse(ok(await cli('group', 'list', '--query', 'length(@)')).stdout)).toBe(2);
    ok(await cli('storage', 'account', 'create', '-n', 'outacct', '-g', 'rg-out', '--sku', 'Standard_LRS', '-o', 'none'));
    const accounts = ok(await cli('storage', 'account', 'list', '-g', 'rg-out', '-o', 'table')).stdout.split('\n');
    expect(accounts[0]).toMatch(/^Name +ResourceGroup +Location +Kind +Sku +ProvisioningState$/);
    expect(accounts[2]).toMatch(/^outacct +rg-out +westeurope +StorageV2 +Standard_LRS +Succeeded$/);
    const keys = ok(await cli('storage', 'account', 'keys', 'list', '-g', 'rg-out', '-n', 'outacct', '--query', '[].keyName', '-o', 'tsv')).stdout;
    expect(keys).toBe('key1\nkey2\n');
    // Default tables fit a 120-column terminal.
    for (const args of [['group', 'list'], ['storage', 'account', 'list'], ['storage', 'account', 'keys', 'consumers', '-g', 'rg-out', '-n', 'outacct']]) {
      const widths = ok(await cli(...args, '-o', 'table')).stdout.split('\n').map((line) => line.length);
      expect(Math.max(...widths), args.join(' ')).toBeLessThanOrEqual(120);
    }
  });

  test('secrets appear only where asked for: keys list and show-connection-string', async () => {
    const [key1] = ok(await cli('storage', 'account', 'keys', 'list', '-g', 'rg-out', '-n', 'outacct', '--query', '[].value', '-o', 'tsv')).stdout.trim().split('\n');
    expect(key1).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    expect(ok(await cli('storage', 'account', 'show', '-g', 'rg-out', '-n', 'outacct')).stdout).not.toContain(key1);
    const connection = ok(await cli('storage', 'account', 'show-connection-string', '-g', 'rg-out', '-n', 'outacct', '--query', 'connectionString', '-o', 'tsv')).stdout.trim();
    expect(connection).toBe(`DefaultEndpointsProtocol=http;AccountName=outacct;AccountKey=${key1};BlobEndpoint=${server.blob}/outacct/;FileEndpoint=${server.file}/outacct/;`);
  });

  test('an unknown resource ends with exit code 3 and one line naming it', async () => {
    const [group, account, workspace, storage] = await Promise.all([
      cli('group', 'show', '-n', 'no-such-group'),
      cli('storage', 'account', 'create', '-n', 'acctx', '-g', 'no-such-group', '-l', 'eastus'),
      cli('ml', 'workspace', 'show', '-n', 'nows', '-g', 'rg-out'),
      cli('ml', 'workspace', 'create', '-n', 'ws', '-g', 'rg-out', '--storage-account', 'nosuchacct'),
    ]);
    expect(oneLine(group!, 3)).toBe("ERROR: (ResourceGroupNotFound) Resource group 'no-such-group' could not be found.");
    expect(oneLine(account!, 3)).toContain('ResourceGroupNotFound');
    expect(oneLine(workspace!, 3)).toContain("workspaces/nows' under resource group 'rg-out' was not found");
    expect(oneLine(storage!, 3)).toBe("ERROR: Storage account 'nosuchacct' was not found in resource group 'rg-out'; give its name there, or its ARM id.");
  });

  test('bad usage ends with exit code 2 and one line', async () => {
    const [missing, query, format, key, disagree, noName, unknown, noTty] = await Promise.all([
      cli('group', 'create', '-n', 'x'),
      cli('group', 'list', '--query', '[?name=='),
      cli('group', 'list', '-o', 'xml'),
      cli('storage', 'account', 'keys', 'renew', '-g', 'rg-out', '-n', 'outacct', '--key', 'key3'),
      cli('ml', 'workspace', 'show', '-n', 'a', '-w', 'b', '-g', 'rg-out'),
      cli('ml', 'workspace', 'sync-keys', '-g', 'rg-out'),
      cli('nonsense'),
      cli('group', 'delete', '-n', 'rg-out'),
    ]);
    expect(oneLine(missing!, 2)).toBe("error: required option '-l, --location <location>' not specified");
    expect(oneLine(query!, 2)).toContain("option '--query <jmespath>' argument '[?name==' is invalid. not a JMESPath expression");
    expect(oneLine(format!, 2)).toContain('Allowed choices are json, jsonc, table, tsv, yaml, none');
    expect(oneLine(key!, 2)).toContain('Allowed choices are primary, secondary');
    expect(oneLine(disagree!, 2)).toBe("ERROR: --name 'a' and --workspace-name 'b' disagree; give the workspace once.");
    expect(oneLine(noName!, 2)).toContain("'-n, --name <name>' (or '-w, --workspace-name <name>') not specified");
    expect(oneLine(unknown!, 2)).toBe("error: unknown command 'nonsense'");
    expect(oneLine(noTty!, 2)).toContain('Unable to prompt for confirmation as no tty is available: add --yes.');
  });

  test('--help shows each command with examples and exits 0', async () => {
    const help = ok(await cli('ml', 'workspace', 'sync-keys', '--help')).stdout;
    // az takes its global arguments on every command, even those that print nothing.
    expect(help).toContain('-o, --output <format>');
    expect(ok(await cli('logout', '--help')).stdout).toContain('--query <jmespath>');
    expect(help).toContain('-w, --workspace-name <name>');
    expect(help).toContain('mlspace ml workspace sync-keys -w myworkspace -g myresourcegroup');
    expect(ok(await cli('storage', 'account', 'keys', 'renew', '--help')).stdout).toContain('--key primary');
    expect(ok(await cli('ml', 'datastore', 'create', '--help')).stdout).toContain('type: azure_blob');
    for (const group of [[], ['ml'], ['storage', 'account', 'keys'], ['ml', 'model']]) expect(ok(await cli(...group, '--help')).stdout, group.join(' ')).toMatch(/\nExamples:\n  mlspace /);
  });

  describe('datastore YAML', () => {
    let key: string;
    const write = (name: string, text: string) => {
      fs.writeFileSync(path.join(work, name), text);
      return path.join(work, name);
    };
    const create = (file: string) => cli('ml', 'datastore', 'create', '--file', file, '-w', 'ws-out', '-g', 'rg-out');

    beforeAll(async () => {
      ok(await cli('ml', 'workspace', 'create', '-n', 'ws-out', '-g', 'rg-out', '--storage-account', 'outacct', '-o', 'none'));
      ok(await cli('storage', 'container', 'create', '-n', 'data', '--account-name', 'outacct', '-o', 'none'));
      key = ok(await cli('storage', 'account', 'keys', 'list', '-g', 'rg-out', '-n', 'outacct', '--query', '[0].value', '-o', 'tsv')).stdout.trim();
    });

    test('bad YAML, unknown fields, missing fields and wrong credentials are refused, naming the file and the field', async () => {
      const [syntax, list, typo, mixed, noType, gen2, both, missing] = await Promise.all([
        create(write('syntax.yml', 'type: azure_blob\nname: [unclosed\n')),
        create(write('list.yml', '- a\n- b\n')),
        create(write('typo.yml', 'type: azure_blob\nname: d\nacount_name: outacct\ncontainer_name: data\n')),
        create(write('mixed.yml', 'type: azure_file\nname: d\naccount_name: outacct\ncontainer_name: data\n')),
        create(write('notype.yml', 'name: d\naccount_name: outacct\n')),
        create(write('gen2.yml', 'type: azure_data_lake_gen2\nname: d\n')),
        create(write('both.yml', `type: azure_blob\nname: d\naccount_name: outacct\ncontainer_name: data\ncredentials:\n  account_key: ${key}\n  sas_token: sv=x\n`)),
        create(path.join(work, 'missing.yml')),
      ]);
      expect(oneLine(syntax!, 1)).toMatch(/^ERROR: .*syntax\.yml is not valid YAML: .*line \d+, column \d+\.$/);
      expect(oneLine(list!, 1)).toContain('list.yml: expected a mapping of datastore fields');
      expect(oneLine(typo!, 1)).toContain(
        "typo.yml: unknown field 'acount_name' for type azure_blob; allowed: name, type, description, account_name, endpoint, protocol, credentials, tags, container_name.",
      );
      expect(oneLine(mixed!, 1)).toContain("unknown field 'container_name' for type azure_file");
      expect(oneLine(noType!, 1)).toContain("notype.yml: 'type' is required.");
      expect(oneLine(gen2!, 1)).toContain("type 'azure_data_lake_gen2' is not supported: use azure_blob or azure_file.");
      expect(oneLine(both!, 1)).toContain("'credentials' must give exactly one of account_key and sas_token.");
      expect(oneLine(missing!, 1)).toContain('missing.yml: no such file.');
    });

    test('the service refuses a key that is not the account\'s, and the CLI says so without echoing it', async () => {
      const wrong = Buffer.alloc(64, 1).toString('base64');
      const line = oneLine(await create(write('wrongkey.yml', `type: azure_blob\nname: d\naccount_name: outacct\ncontainer_name: data\ncredentials:\n  account_key: ${wrong}\n`)), 1);
      expect(line).toContain("(DatastoreValidationFailed) The credentials of datastore 'd' were refused: the key is not a current key of account 'outacct'");
      expect(line).not.toContain(wrong);
    });

    test('a valid file registers, lists and shows without secrets; create again overwrites; delete removes', async () => {
      const file = write('good.yml', `$schema: https://azuremlschemas.azureedge.net/latest/azureBlob.schema.json\ntype: azure_blob\nname: d\naccount_name: outacct\ncontainer_name: data\ndescription: first\ncredentials:\n  account_key: ${key}\n`);
      expect(JSON.parse(ok(await create(file)).stdout)).toMatchObject({ name: 'd', type: 'azure_blob', container_name: 'data', description: 'first', credentials: {} });
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('first', 'second'));
      const again = ok(await create(file));
      expect(again.stdout).not.toContain(key);
      expect(JSON.parse(again.stdout).description).toBe('second');
      const table = ok(await cli('ml', 'datastore', 'list', '-w', 'ws-out', '-g', 'rg-out', '-o', 'table')).stdout;
      expect(table.split('\n')[0]).toMatch(/^Name +Type +AccountName +Container +IsDefault$/);
      expect(table).toMatch(/\nd +azure_blob +outacct +data +False\n/);
      expect(table).toMatch(/\nworkspacefilestore +azure_file +outacct +azureml-filestore-\S+ +False\n/);
      ok(await cli('ml', 'datastore', 'delete', '-n', 'd', '-w', 'ws-out', '-g', 'rg-out'));
      expect(oneLine(await cli('ml', 'datastore', 'show', '-n', 'd', '-w', 'ws-out', '-g', 'rg-out'), 3)).toContain("Datastore 'd' was not found in workspace 'ws-out'.");
    });
  });

  test('model create refuses a missing path and an existing version', async () => {
    fs.writeFileSync(path.join(work, 'weights.bin'), 'w');
    const create = (...extra: string[]) => cli('ml', 'model', 'create', '--name', 'm', '-w', 'ws-out', '-g', 'rg-out', ...extra);
    expect(oneLine(await create('--path', path.join(work, 'nothing-here')), 3)).toBe(`ERROR: ${path.join(work, 'nothing-here')} does not exist.`);
    expect(JSON.parse(ok(await create('--path', path.join(work, 'weights.bin'))).stdout)).toMatchObject({ version: '1', path: 'azureml://datastores/workspaceblobstore/paths/models/m/1/weights.bin' });
    expect(oneLine(await create('--path', path.join(work, 'weights.bin'), '--version', '1'), 1)).toBe("ERROR: Version 1 of model 'm' already exists in workspace 'ws-out'; give another --version.");
    const downloaded = JSON.parse(ok(await cli('ml', 'model', 'download', '--name', 'm', '--download-path', path.join(work, 'dl'), '-w', 'ws-out', '-g', 'rg-out')).stdout);
    expect(downloaded).toMatchObject({ name: 'm', version: '1', files: [path.join(work, 'dl', 'm', 'weights.bin')] });
    expect(oneLine(await cli('ml', 'model', 'download', '--name', 'm', '--download-path', path.join(work, 'dl'), '-w', 'ws-out', '-g', 'rg-out'), 1)).toContain('already exists; pass overwrite: true (--overwrite in the CLI)');
  });

  test('workspace create without --storage-account creates one, as az does; deletes need --yes without a terminal', async () => {
    ok(await cli('group', 'create', '-n', 'rg-doomed', '-l', 'eastus', '-o', 'none'));
    const created = ok(await cli('ml', 'workspace', 'create', '-n', 'Doomed_WS', '-g', 'rg-doomed'));
    const account = JSON.parse(created.stdout).storage_account.split('/').pop();
    expect(account).toMatch(/^doomedws[0-9a-f]{8}$/);
    expect(created.stderr).toBe(`Creating storage account '${account}' for workspace 'Doomed_WS'.\n`);
    // Its system identity, given a role, goes with it, role and all.
    const identity = JSON.parse(created.stdout).identity.principal_id;
    const groupScope = JSON.parse(ok(await cli('group', 'show', '-n', 'rg-doomed')).stdout).id;
    ok(await cli('role', 'assignment', 'create', '--assignee', identity, '--role', 'Reader', '--scope', groupScope, '-o', 'none'));
    expect(JSON.parse(ok(await cli('role', 'assignment', 'list', '--assignee', identity)).stdout)).toHaveLength(1);
    ok(await cli('ml', 'workspace', 'delete', '-n', 'Doomed_WS', '-g', 'rg-doomed', '--yes'));
    expect(JSON.parse(ok(await cli('role', 'assignment', 'list', '--assignee', identity)).stdout)).toEqual([]);
    expect(oneLine(await cli('role', 'assignment', 'create', '--assignee', identity, '--role', 'Reader', '--scope', groupScope), 1)).toContain(`(PrincipalNotFound) Principal ${identity} does not exist`);
    ok(await cli('group', 'delete', '-n', 'rg-doomed', '--yes'));
    expect(oneLine(await cli('storage', 'account', 'show', '-n', account, '-g', 'rg-doomed'), 3)).toContain('ResourceGroupNotFound');
  });

  describe('another identity', () => {
    let reader: { clientId: string; clientSecret: string; tenantId: string };

    beforeAll(async () => {
      const created = ok(await runCli(['ad', 'sp', 'create', '--role', 'Reader', '--data-dir', server.dataDir]));
      reader = JSON.parse(created.stdout);
    });

    test('--service-principal signs in as it; what its role forbids fails with one line', async () => {
      const other = cliIn(fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-cli-reader-')));
      expect(oneLine(await other('login', '--service-principal', '-u', reader.clientId, '-p', 'wrong-secret', '--data-dir', server.dataDir), 1)).toMatch(
        /^ERROR: Signing in failed: \(invalid_client\) Invalid client secret provided\..* Run 'mlspace login' again\.$/,
      );
      ok(await other('login', '--service-principal', '-u', reader.clientId, '-p', reader.clientSecret, '--data-dir', server.dataDir, '-o', 'none'));
      expect(JSON.parse(ok(await other('account', 'show')).stdout).user.name).toBe(reader.clientId);
      expect(ok(await other('group', 'show', '-n', 'rg-out', '--query', 'name', '-o', 'tsv')).stdout).toBe('rg-out\n');
      expect(oneLine(await other('storage', 'account', 'keys', 'list', '-g', 'rg-out', '-n', 'outacct'), 1)).toMatch(/^ERROR: \(AuthorizationFailed\) /);
    });

    test('--endpoint signs in to a server by URL, trusting the CA given with --ca-file', async () => {
      const other = cliIn(fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-cli-remote-')));
      expect(oneLine(await other('login', '--endpoint', server.arm), 2)).toContain('needs --service-principal -u CLIENT_ID -p SECRET --tenant TENANT');
      const args = ['login', '--service-principal', '-u', reader.clientId, '-p', reader.clientSecret, '--tenant', reader.tenantId, '--endpoint', server.arm];
      expect(oneLine(await other(...args), 1)).toBe(
        `ERROR: The certificate of ${server.arm} is not trusted (SELF_SIGNED_CERT_IN_CHAIN): give the server's CA certificate with --ca-file (the server's caFile).`,
      );
      const [account] = JSON.parse(ok(await other(...args, '--ca-file', server.caFile)).stdout);
      expect(account).toMatchObject({ id: server.subscriptionId, managementEndpoint: server.arm });
      expect(ok(await other('ml', 'workspace', 'list', '--query', '[].name', '-o', 'tsv')).stdout).toBe('ws-out\n');
    });
  });
});
