import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readDatastoreYaml } from '../../../src/cli/datastore-yaml.js';
import { datastoreResource } from '../../../src/sdk/datastore-registration.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-yaml-'));
const file = (text: string) => {
  const name = path.join(dir, `${Math.random().toString(36).slice(2)}.yml`);
  fs.writeFileSync(name, text);
  return name;
};

describe('az ml v2 datastore YAML', () => {
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a blob datastore with a key maps onto the ARM body the service takes', () => {
    const registration = readDatastoreYaml(
      file('$schema: https://azuremlschemas.azureedge.net/latest/azureBlob.schema.json\ntype: azure_blob\nname: d\naccount_name: acct\ncontainer_name: c\nendpoint: core.windows.net\nprotocol: https\ntags:\n  team: ml\ncredentials:\n  account_key: a2V5\n'),
    );
    expect(datastoreResource(registration)).toEqual({
      properties: {
        datastoreType: 'AzureBlob',
        accountName: 'acct',
        containerName: 'c',
        endpoint: 'core.windows.net',
        protocol: 'https',
        tags: { team: 'ml' },
        description: undefined,
        credentials: { credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey', key: 'a2V5' } },
      },
    });
  });

  test('a file datastore with a SAS token, and one without credentials; --name overrides the file', () => {
    const sas = datastoreResource(readDatastoreYaml(file('type: azure_file\nname: f\naccount_name: acct\nfile_share_name: s\ncredentials:\n  sas_token: "?sv=1&sig=x"\n')));
    expect(sas.properties).toMatchObject({ datastoreType: 'AzureFile', fileShareName: 's', credentials: { credentialsType: 'Sas', secrets: { sasToken: 'sv=1&sig=x' } } });
    const none = readDatastoreYaml(file('type: azure_blob\nname: n\naccount_name: acct\ncontainer_name: c\n'), 'renamed');
    expect([none.name, datastoreResource(none).properties.credentials]).toEqual(['renamed', { credentialsType: 'None' }]);
    const principal = readDatastoreYaml(file('type: azure_blob\nname: sp\naccount_name: acct\ncontainer_name: c\ncredentials:\n  tenant_id: t\n  client_id: c\n  client_secret: s\n'));
    expect(datastoreResource(principal).properties.credentials).toEqual({
      credentialsType: 'ServicePrincipal',
      tenantId: 't',
      clientId: 'c',
      secrets: { secretsType: 'ServicePrincipal', clientSecret: 's' },
    });
  });

  test('wrong shapes are refused with the field named', () => {
    expect(() => readDatastoreYaml(file('type: azure_blob\nname: 3\naccount_name: acct\ncontainer_name: c\n'))).toThrow("'name' must be a non-empty string.");
    expect(() => readDatastoreYaml(file('type: azure_blob\nname: d\naccount_name: acct\ncontainer_name: c\ntags: [a]\n'))).toThrow("'tags' must map names to strings.");
    expect(() => readDatastoreYaml(file('type: azure_blob\nname: d\naccount_name: acct\ncontainer_name: c\ncredentials:\n  password: x\n'))).toThrow(
      "unknown field 'credentials.password'; use account_key, sas_token, or tenant_id, client_id and client_secret.",
    );
    expect(() => readDatastoreYaml(file('type: azure_blob\nname: d\naccount_name: acct\ncontainer_name: c\ncredentials:\n  client_secret: x\n'))).toThrow(
      "a service principal's 'credentials' take tenant_id, client_id and client_secret, all three and nothing else; missing tenant_id, client_id.",
    );
    expect(() => readDatastoreYaml(file('type: azure_blob\nname: d\naccount_name: acct\ncontainer_name: c\ncredentials:\n  tenant_id: t\n  client_id: c\n  client_secret: s\n  account_key: k\n'))).toThrow(
      "all three and nothing else.",
    );
    expect(() => readDatastoreYaml(file('type: azure_blob\nname: d\naccount_name: acct\n'))).toThrow("'container_name' is required.");
  });
});
