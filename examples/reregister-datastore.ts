// The documents' second code block: re-register a datastore with the account's new key,
// overwriting its registration.
//
//   NEW_ACCOUNT_KEY=... node examples/dist/reregister-datastore.js DATASTORE CONTAINER ACCOUNT
//
// The key comes from the environment rather than the command line, where other users could
// read it in the process list. The workspace comes from config.json, as in list-datastores.
import { Datastore, Workspace } from 'mlspace';

const [datastoreName, containerName, accountName] = process.argv.slice(2);
const accountKey = process.env.NEW_ACCOUNT_KEY;
if (!datastoreName || !containerName || !accountName || !accountKey) {
  console.error('usage: NEW_ACCOUNT_KEY=<key> node examples/dist/reregister-datastore.js <datastore> <container> <account>');
  process.exit(2);
}

const ws = await Workspace.fromConfig();
const ds = await Datastore.registerAzureBlobContainer({
  workspace: ws,
  datastoreName,
  containerName,
  accountName,
  accountKey,
  overwrite: true,
});
console.log(`Re-registered datastore ${ds.name} (storage account ${ds.accountName}, container ${ds.containerName}) with the new key.`);
