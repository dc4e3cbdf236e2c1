// The documents' first code block: find the datastores that use a storage account, and note
// their name, account and container before regenerating the account's key.
//
//   node examples/dist/list-datastores.js [ACCOUNT_NAME]
//
// The workspace comes from .azureml/config.json or config.json (in this directory or above);
// the server is the local one (mlspace up). With ACCOUNT_NAME, only datastores on that account
// are listed. Unlike the documents' snippet, the default datastore's line uses default_ds,
// which exists at that point (the documents print ds.container_name before ds is defined).
import { Workspace } from 'mlspace';

const account = process.argv[2];
const ws = await Workspace.fromConfig();

const defaultDs = await ws.getDefaultDatastore();
console.log(`Default datastore: ${defaultDs.name}, storage account name: ${defaultDs.accountName}, container name: ${defaultDs.containerName}`);

for (const [name, ds] of await ws.datastores()) {
  if ((ds.datastoreType === 'AzureBlob' || ds.datastoreType === 'AzureFile') && (account === undefined || ds.accountName === account)) {
    const where = ds.datastoreType === 'AzureFile' ? `file share name: ${ds.fileShareName}` : `container name: ${ds.containerName}`;
    console.log(`datastore name: ${name}, storage account name: ${ds.accountName}, ${where}`);
  }
}
