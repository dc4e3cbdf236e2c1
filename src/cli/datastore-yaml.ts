import type { DatastoreRegistration } from '../sdk/datastore-registration.js';
import { readYamlFile } from './yaml-file.js';

/** The az ml v2 datastore YAML fields this server understands, per type. */
const TYPES = {
  azure_blob: { type: 'AzureBlob', containerField: 'container_name' },
  azure_file: { type: 'AzureFile', containerField: 'file_share_name' },
} as const;
const COMMON_FIELDS = ['$schema', 'name', 'type', 'description', 'account_name', 'endpoint', 'protocol', 'credentials', 'tags'];
const CREDENTIAL_FIELDS = ['account_key', 'sas_token'];
/** A service principal's credentials, as az ml writes them; all three together. */
const PRINCIPAL_FIELDS = ['tenant_id', 'client_id', 'client_secret'];

/**
 * Reads an az ml v2 datastore YAML file (`type: azure_blob|azure_file`, `name`,
 * `account_name`, `container_name` or `file_share_name`, `credentials` with
 * `account_key`, `sas_token`, or `tenant_id` + `client_id` + `client_secret`
 * (none: identity access), optional `description`, `endpoint`,
 * `protocol`, `tags`) into a registration. Anything else is refused with the
 * file, the field and what is allowed, as az ml's schema validation does.
 */
export function readDatastoreYaml(file: string, nameOverride?: string): DatastoreRegistration {
  const { fields, fail, text: text_, only } = readYamlFile(file, 'datastore');

  const typeName = text_('type', true)!;
  const kind = TYPES[typeName as keyof typeof TYPES];
  if (!kind) fail(`type '${typeName}' is not supported: use ${Object.keys(TYPES).join(' or ')}.`);
  only([...COMMON_FIELDS, kind.containerField], ` for type ${typeName}`);

  const registration: DatastoreRegistration = {
    type: kind.type,
    name: nameOverride ?? text_('name', true)!,
    accountName: text_('account_name', true)!,
    container: text_(kind.containerField, true)!,
    endpoint: text_('endpoint', false),
    protocol: text_('protocol', false),
    description: text_('description', false),
  };

  const tags = fields.tags;
  if (tags !== undefined && tags !== null) {
    if (typeof tags !== 'object' || Array.isArray(tags) || Object.values(tags).some((value) => typeof value !== 'string')) fail("'tags' must map names to strings.");
    registration.tags = tags as Record<string, string>;
  }

  const credentials = fields.credentials;
  if (credentials !== undefined && credentials !== null) {
    if (typeof credentials !== 'object' || Array.isArray(credentials)) fail("'credentials' must be a mapping with account_key, sas_token, or tenant_id, client_id and client_secret.");
    const given = Object.keys(credentials as object);
    const unknown = given.find((key) => !CREDENTIAL_FIELDS.includes(key) && !PRINCIPAL_FIELDS.includes(key));
    if (unknown) fail(`unknown field 'credentials.${unknown}'; use account_key, sas_token, or tenant_id, client_id and client_secret.`);
    for (const key of given) {
      const value = (credentials as Record<string, unknown>)[key];
      if (typeof value !== 'string' || value === '') fail(`'credentials.${key}' must be a non-empty string.`);
    }
    const values = credentials as Record<string, string>;
    if (given.some((key) => PRINCIPAL_FIELDS.includes(key))) {
      const missing = PRINCIPAL_FIELDS.filter((key) => !given.includes(key));
      if (missing.length > 0 || given.length !== PRINCIPAL_FIELDS.length) {
        fail(`a service principal's 'credentials' take tenant_id, client_id and client_secret, all three and nothing else${missing.length > 0 ? `; missing ${missing.join(', ')}` : ''}.`);
      }
      registration.servicePrincipal = { tenantId: values.tenant_id!, clientId: values.client_id!, clientSecret: values.client_secret! };
    } else {
      if (given.length !== 1) fail("'credentials' must give exactly one of account_key and sas_token.");
      if (given[0] === 'account_key') registration.accountKey = values.account_key;
      else registration.sasToken = values.sas_token;
    }
  }
  return registration;
}
