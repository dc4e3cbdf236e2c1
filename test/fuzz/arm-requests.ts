import fc from 'fast-check';
import type { RawRequest } from './raw-http.js';

/** The management plane's fuzz targets live in one resource group, so no request can touch the data plane's account. */
export const FUZZ_GROUP = 'fuzz-rg';
export const FUZZ_ACCOUNT = 'fuzzacct';
export const FUZZ_WORKSPACE = 'fuzzws';

const RESOURCE_KINDS = ['group', 'account', 'workspace', 'datastore', 'model'] as const;
type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** Each kind's path under the subscription, the actions it takes, and a body it would accept. */
function resourcePath(kind: ResourceKind, name: string): string {
  const group = `resourceGroups/${FUZZ_GROUP}`;
  const ws = `${group}/providers/Microsoft.MachineLearningServices/workspaces/${FUZZ_WORKSPACE}`;
  switch (kind) {
    case 'group':
      return `resourcegroups/${name}`;
    case 'account':
      return `${group}/providers/Microsoft.Storage/storageAccounts/${name}`;
    case 'workspace':
      return `${group}/providers/Microsoft.MachineLearningServices/workspaces/${name}`;
    case 'datastore':
      return `${ws}/datastores/${name}`;
    case 'model':
      return `${ws}/models/${name}`;
  }
}

const ACTIONS: Record<ResourceKind, string[]> = {
  group: [],
  // Not rotateKeys: it goes on in the background after its answer, so it would change state under a later request's check.
  account: ['listKeys', 'regenerateKey', 'ListAccountSas', 'ListServiceSas', 'listConsumers'],
  workspace: ['resyncKeys', 'listKeys'],
  datastore: ['listSecrets'],
  model: [],
};

const VALID_BODIES: Record<ResourceKind, unknown> = {
  group: { location: 'eastus', tags: { a: 'b' } },
  account: { location: 'eastus', sku: { name: 'Standard_LRS' }, kind: 'StorageV2', properties: { allowSharedKeyAccess: true } },
  workspace: { location: 'eastus', properties: { storageAccount: `/subscriptions/SUB/resourceGroups/${FUZZ_GROUP}/providers/Microsoft.Storage/storageAccounts/${FUZZ_ACCOUNT}` } },
  datastore: {
    properties: { datastoreType: 'AzureBlob', accountName: FUZZ_ACCOUNT, containerName: 'data', credentials: { credentialsType: 'None' } },
  },
  model: { properties: { description: 'm' } },
};

const ACTION_BODIES = [
  { keyName: 'key1' },
  { keyName: 'key3' },
  { signedServices: 'b', signedResourceTypes: 'sco', signedPermission: 'r', signedExpiry: '2999-01-01T00:00:00Z' },
  { canonicalizedResource: `/blob/${FUZZ_ACCOUNT}/data`, signedResource: 'c', signedPermission: 'r', signedExpiry: 'never' },
  {},
];

const name = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(FUZZ_ACCOUNT, FUZZ_WORKSPACE, 'fuzzds', 'fuzzmodel', FUZZ_GROUP) },
  { weight: 2, arbitrary: fc.constantFrom('UPPER', 'a', 'x'.repeat(300), '..', '%2e%2e', '%00', 'with space', '$', 'ünï', 'a%2Fb') },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map(encodeURIComponent) },
);

/** Replaces one value somewhere in a JSON document with `replacement`. */
function mutate(document: unknown, path: number, replacement: unknown): unknown {
  const slots: { parent: Record<string, unknown>; key: string }[] = [];
  const visit = (node: unknown) => {
    if (node === null || typeof node !== 'object') return;
    for (const [key, child] of Object.entries(node)) {
      slots.push({ parent: node as Record<string, unknown>, key });
      visit(child);
    }
  };
  const copy = structuredClone(document);
  visit(copy);
  if (slots.length === 0) return replacement;
  const slot = slots[path % slots.length]!;
  slot.parent[slot.key] = replacement;
  return copy;
}

const hostileJson = fc.constantFrom(
  '[' .repeat(100_000) + ']'.repeat(100_000),
  `{"location":"${'x'.repeat(900_000)}"}`,
  '{"location":"eastus",',
  '{"__proto__":{"polluted":true},"location":"eastus"}',
  '{"location":"eastus","location":"westus"}',
  '\u0000',
  'null',
  '[]',
  '"string"',
  '{"properties":{"credentials":{"credentialsType":"AccountKey","secrets":{"key":"not base64!"}}}}',
);

const body = (kind: ResourceKind, action: string | undefined, subscriptionId: string): fc.Arbitrary<string | undefined> => {
  const valid = JSON.parse(JSON.stringify(action ? ACTION_BODIES[0] : VALID_BODIES[kind]).replace('SUB', subscriptionId));
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(JSON.stringify(valid)) },
    { weight: 5, arbitrary: fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 3 })).map(([at, value]) => JSON.stringify(mutate(valid, at, value))) },
    { weight: 2, arbitrary: fc.constantFrom(...ACTION_BODIES.map((b) => JSON.stringify(b))) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: hostileJson },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
};

export interface ArmFuzzRequest {
  method: string;
  /** The resource the request acts on, relative to the subscription: what must not change when the request is refused. */
  resource: string;
  path: string;
  apiVersion: string | undefined;
  body: string | undefined;
  contentType: string;
  /** 'valid' uses a token of the admin client; the others are hostile. */
  token: 'valid' | 'none' | string;
}

export function armRequest(subscriptionId: string): fc.Arbitrary<ArmFuzzRequest> {
  return fc
    .tuple(fc.constantFrom(...RESOURCE_KINDS), name)
    .chain(([kind, resourceName]) => {
      const resource = resourcePath(kind, resourceName);
      const action = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: fc.constantFrom(undefined, ...ACTIONS[kind], 'bogusAction') });
      return action.chain((act) =>
        fc.record({
          method: act ? fc.constantFrom('POST', 'POST', 'GET', 'PUT') : fc.constantFrom('PUT', 'PUT', 'PATCH', 'GET', 'DELETE', 'POST', 'HEAD', 'OPTIONS'),
          resource: fc.constant(resource),
          path: fc.constant(act ? `${resource}/${act}` : resource),
          apiVersion: fc.constantFrom('2023-01-01', '2023-01-01', '2024-04-01', undefined, '', 'bogus', '1900-01-01'),
          body: body(kind, act, subscriptionId),
          contentType: fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/json; charset=latin1', ''),
          token: fc.oneof(
            { weight: 10, arbitrary: fc.constant('valid') },
            { weight: 2, arbitrary: fc.constantFrom('none', '', 'garbage', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'a.b.c', 'x'.repeat(10_000)) },
          ),
        }),
      );
    });
}

export function armToRaw(request: ArmFuzzRequest, subscriptionId: string, validToken: string): RawRequest {
  const headers: [string, string][] = [];
  if (request.token !== 'none') headers.push(['Authorization', `Bearer ${request.token === 'valid' ? validToken : request.token}`]);
  if (request.contentType) headers.push(['Content-Type', request.contentType]);
  const query = request.apiVersion === undefined ? '' : `?api-version=${request.apiVersion}`;
  return {
    method: request.method,
    target: `/subscriptions/${subscriptionId}/${request.path}${query}`,
    headers,
    body: request.body === undefined ? undefined : Buffer.from(request.body),
  };
}
