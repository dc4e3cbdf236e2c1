// Checks that every datastore on a storage account can still reach its data with the
// credential it holds: run it after regenerating a key, after sync-keys, and after
// re-registering, to see what is left to fix. Exits 1 while any datastore fails.
//
//   node examples/dist/check-datastores.js ACCOUNT_NAME
//
// A failure names the datastore, the account and the fix (sync-keys for the workspace's own
// datastores, re-registration for yours), as the SDK reports it.
import { CredentialRefusedError, Workspace } from 'mlspace';

const account = process.argv[2];
if (!account) {
  console.error('usage: node examples/dist/check-datastores.js <account>');
  process.exit(2);
}

const ws = await Workspace.fromConfig();
let failures = 0;
for (const [name, ds] of await ws.datastores()) {
  if (ds.accountName !== account) continue;
  try {
    const files = await ds.listFiles();
    console.log(`ok      ${name}: ${files.length} file(s)`);
  } catch (error) {
    if (!(error instanceof CredentialRefusedError)) throw error;
    failures++;
    console.log(`FAILED  ${name}: ${error.message}`);
  }
}
process.exitCode = failures > 0 ? 1 : 0;
