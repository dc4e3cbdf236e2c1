import { describe, expect, test } from 'vitest';
import type { ArmClients } from '../../../src/sdk/arm-clients.js';
import { CredentialRefusedError, explainRefusal, type CredentialHolder } from '../../../src/sdk/credential-refusal.js';

const ACCOUNT_ID = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct';
const created = new Date('2026-01-01T00:00:00Z');
const regenerated = new Date('2026-02-01T10:00:00Z');

/** The answer of a data-plane request signed with a key the account does not have. */
const refusal = Object.assign(new Error('Server failed to authenticate the request.'), { statusCode: 403, code: 'AuthenticationFailed' });
/** A HEAD answer carries its error code only in the headers. */
const headRefusal = Object.assign(new Error(''), { statusCode: 403, details: { errorCode: 'AuthenticationFailed' } });

/**
 * The management calls explainRefusal makes, answered from a table: it decides
 * from what listKeys and getProperties say, which is what these tests vary.
 */
function clients(options: { keys?: string[]; listKeysError?: object; accounts?: { name: string; id: string }[] }): ArmClients {
  return {
    subscriptionId: 's',
    storage: {
      storageAccounts: {
        async listKeys() {
          if (options.listKeysError) throw options.listKeysError;
          return { keys: (options.keys ?? []).map((value, i) => ({ keyName: `key${i + 1}`, value })) };
        },
        async getProperties() {
          return { creationTime: created, keyCreationTime: { key1: regenerated, key2: created } };
        },
        async *list() {
          yield* options.accounts ?? [];
        },
      },
    },
  } as unknown as ArmClients;
}

const workspaceHolder: CredentialHolder = { workspace: 'ws', resourceGroup: 'rg', renewedBySyncKeys: true };
const datastoreHolder: CredentialHolder = { workspace: 'ws', resourceGroup: 'rg', datastore: { name: 'ds', type: 'AzureBlob' }, renewedBySyncKeys: false };
const held = { type: 'AccountKey' as const, key: 'old' };

async function explain(...args: Parameters<typeof explainRefusal>): Promise<CredentialRefusedError> {
  const result = await explainRefusal(...args);
  expect(result).toBeInstanceOf(CredentialRefusedError);
  return result as CredentialRefusedError;
}

describe('explaining a refused credential', () => {
  test('a key that is neither current key is stale: the message names the holder, the account, the regeneration and sync-keys', async () => {
    const error = await explain(refusal, clients({ keys: ['new1', 'k2'] }), workspaceHolder, { name: 'acct', id: ACCOUNT_ID }, held);
    expect([error.code, error.verdict]).toEqual(['StaleCredential', 'stale']);
    expect(error.message).toBe(
      "Storage account 'acct' refused the key workspace 'ws' (resource group 'rg') holds for its storage: that key is no longer key1 or key2 of the account (key1 was regenerated at 2026-02-01T10:00:00.000Z). To fix it, run: mlspace ml workspace sync-keys -w ws -g rg (ws.syncKeys() in the SDK).",
    );
    expect(error.cause).toBe(refusal);
  });

  test("a user datastore's account is found by name, and the fix is re-registration", async () => {
    const error = await explain(headRefusal, clients({ keys: ['new1', 'k2'], accounts: [{ name: 'other', id: 'x' }, { name: 'acct', id: ACCOUNT_ID }] }), datastoreHolder, { name: 'acct' }, held);
    expect(error.verdict).toBe('stale');
    expect(error.message).toContain("refused the key held by datastore 'ds' of workspace 'ws' (resource group 'rg')");
    expect(error.message).toContain('mlspace ml datastore create --file <datastore.yml> -w ws -g rg, or Datastore.registerAzureBlobContainer({ ..., overwrite: true })');
  });

  test('a current key refused is not called stale', async () => {
    const error = await explain(refusal, clients({ keys: ['old', 'k2'] }), datastoreHolder, { name: 'acct', id: ACCOUNT_ID }, held);
    expect([error.code, error.verdict]).toEqual(['CredentialRefused', 'current']);
    expect(error.message).toContain('although it is a current key of the account: Server failed to authenticate the request.');
  });

  test('when the caller may not list keys, the credential is said to be refused and possibly stale', async () => {
    const forbidden = { statusCode: 403, code: 'AuthorizationFailed', message: 'no' };
    const error = await explain(refusal, clients({ listKeysError: forbidden }), datastoreHolder, { name: 'acct', id: ACCOUNT_ID }, held);
    expect([error.code, error.verdict]).toEqual(['CredentialRefused', 'unverified']);
    expect(error.message).toContain("The key may have been regenerated, but it could not be compared with the account's keys: the signed-in identity may not list the keys of 'acct'");
    expect(error.message).toContain('If it was regenerated, re-register the datastore');
  });

  test('an account that cannot be found is unverified too', async () => {
    const error = await explain(refusal, clients({ accounts: [] }), datastoreHolder, { name: 'acct' }, held);
    expect(error.verdict).toBe('unverified');
    expect(error.message).toContain("no storage account 'acct' is visible in subscription s");
  });

  test('SAS tokens: expired is stale, otherwise possibly signed with a regenerated key', async () => {
    const expired = await explain(refusal, clients({}), datastoreHolder, { name: 'acct' }, { type: 'Sas', sasToken: 'sv=2021-08-06&se=2020-01-01T00%3A00%3A00Z&sig=x' });
    expect([expired.verdict, expired.message]).toEqual(['stale', expect.stringContaining('the token expired at 2020-01-01T00:00:00.000Z')]);
    const live = await explain(refusal, clients({}), datastoreHolder, { name: 'acct' }, { type: 'Sas', sasToken: 'se=2999-01-01T00%3A00%3A00Z&sig=x' });
    expect([live.verdict, live.message]).toEqual(['unverified', expect.stringContaining('it may have been signed with a key that was since regenerated')]);
  });

  test('other errors pass through unchanged', async () => {
    const notFound = Object.assign(new Error('The specified container does not exist.'), { statusCode: 404, code: 'ContainerNotFound' });
    expect(await explainRefusal(notFound, clients({}), datastoreHolder, { name: 'acct' }, held)).toBe(notFound);
    const sharedKeyOff = Object.assign(new Error('Key based authentication is not permitted'), { statusCode: 403, code: 'KeyBasedAuthenticationNotPermitted' });
    expect(await explainRefusal(sharedKeyOff, clients({}), datastoreHolder, { name: 'acct' }, held)).toBe(sharedKeyOff);
  });
});
