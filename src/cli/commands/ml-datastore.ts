import type { Command } from 'commander';
import type { AzureBlobDatastore, AzureFileDatastore, Datastore as ArmDatastore } from '@azure/arm-machinelearning';
import { datastoreResource } from '../../sdk/datastore-registration.js';
import { readDatastoreYaml } from '../datastore-yaml.js';
import { emit } from '../output/options.js';
import { workspacePath } from '../arm-paths.js';
import { groupOf, session, examples, withWorkspace, type WorkspaceScoped } from './common.js';

/** A datastore as `az ml datastore show` prints it: the YAML's fields, and never its secrets. */
export function datastoreView(datastore: ArmDatastore) {
  const properties = datastore.properties as AzureBlobDatastore | AzureFileDatastore;
  const location =
    properties.datastoreType === 'AzureFile' ? { type: 'azure_file', file_share_name: properties.fileShareName } : { type: 'azure_blob', container_name: properties.containerName };
  return {
    name: datastore.name,
    id: datastore.id,
    ...location,
    account_name: properties.accountName,
    endpoint: properties.endpoint,
    protocol: properties.protocol,
    credentials: {},
    credentials_type: properties.credentials.credentialsType,
    description: properties.description,
    is_default: properties.isDefault,
    resource_group: groupOf(datastore.id),
    tags: properties.tags ?? {},
  };
}

/** `-o table`: what the documents' listing prints, per datastore. */
const datastoreRow = (view: ReturnType<typeof datastoreView>) => ({
  Name: view.name,
  Type: view.type,
  AccountName: view.account_name,
  Container: 'container_name' in view ? view.container_name : view.file_share_name,
  IsDefault: view.is_default,
});

export function registerMlDatastore(ml: Command): void {
  const datastore = ml
    .command('datastore')
    .description('Manage datastores: registrations of blob containers and file shares, with their credentials.')
    .addHelpText('after', examples('mlspace ml datastore create --file datastore.yml -w myworkspace -g myresourcegroup', 'mlspace ml datastore list -w myworkspace -g myresourcegroup -o table'));

  withWorkspace(
    datastore
      .command('create')
      .description('Register a datastore from a YAML file, or re-register it (replacing its credentials).')
      .requiredOption('-f, --file <path>', 'datastore YAML (az ml v2 schema)')
      .option('-n, --name <name>', "datastore name, instead of the file's"),
  )
    .addHelpText(
      'after',
      `
The YAML file (az ml v2 schema):
  type: azure_blob            # or azure_file, with file_share_name instead of container_name
  name: trainingdata
  account_name: mystorageaccount
  container_name: training
  credentials:
    account_key: <key>        # or sas_token: <token>
  description: optional
  # endpoint: and protocol: default to this server's Blob or File service

Registering an existing name replaces it: after a key was regenerated, run this again with the new key.
The server checks the credential against the storage account first.

Examples:
  mlspace ml datastore create --file datastore.yml -w myworkspace -g myresourcegroup`,
    )
    .action(async (options: WorkspaceScoped & { file: string; name?: string }) => {
      const registration = readDatastoreYaml(options.file, options.name);
      // az ml's create is create-or-update: the documents' re-registration with overwrite.
      const { rest, subscriptionId } = await session();
      const saved = await rest.put<ArmDatastore>(workspacePath(subscriptionId, options.resourceGroup, options.workspaceName, 'datastores', registration.name), datastoreResource(registration));
      emit(datastoreView(saved), options, datastoreRow);
    });

  withWorkspace(datastore.command('show').description('Show a datastore (without its secrets).').requiredOption('-n, --name <name>', 'datastore name'))
    .addHelpText('after', examples('mlspace ml datastore show -n workspaceblobstore -w myworkspace -g myresourcegroup'))
    .action(async (options: WorkspaceScoped & { name: string }) => {
      const { rest, subscriptionId } = await session();
      emit(datastoreView(await rest.get(workspacePath(subscriptionId, options.resourceGroup, options.workspaceName, 'datastores', options.name))), options, datastoreRow);
    });

  withWorkspace(datastore.command('list').description('List the datastores of a workspace.'))
    .addHelpText(
      'after',
      examples(
        'mlspace ml datastore list -w myworkspace -g myresourcegroup -o table',
        `mlspace ml datastore list -w myworkspace -g myresourcegroup --query "[?account_name=='mystorageaccount'].name" -o tsv`,
      ),
    )
    .action(async (options: WorkspaceScoped) => {
      const { rest, subscriptionId } = await session();
      const datastores = await rest.list<ArmDatastore>(workspacePath(subscriptionId, options.resourceGroup, options.workspaceName, 'datastores'));
      emit(datastores.map(datastoreView), options, datastoreRow);
    });

  withWorkspace(datastore.command('delete').description('Remove a datastore registration (the data stays in the storage account).').requiredOption('-n, --name <name>', 'datastore name'))
    .addHelpText('after', examples('mlspace ml datastore delete -n trainingdata -w myworkspace -g myresourcegroup'))
    .action(async (options: WorkspaceScoped & { name: string }) => {
      const { rest, subscriptionId } = await session();
      await rest.delete(workspacePath(subscriptionId, options.resourceGroup, options.workspaceName, 'datastores', options.name));
    });
}
