import type { Command } from 'commander';
import { BUILT_IN_ROLES } from '../management/identity/role-definitions.js';
import fs from 'node:fs';
import { defaultDataDir } from '../server/config.js';
import { readEndpoints } from '../server/endpoints.js';
import { ArmRest } from './arm-rest.js';
import { TokenSource } from './token-source.js';
import { examples, session } from './commands/common.js';
import { emit, withOutput, type OutputOptions } from './output/options.js';

/** `mlspace ad sp create`: a new management client with a role, through the running server's admin API. */
export function registerAd(program: Command): void {
  const ad = program.command('ad').description('Manage the identities that may call the management endpoint.');
  const sp = ad.command('sp').description('Service principals (clients with a secret and role assignments).');
  sp.command('create')
    .description('Create a client with a role and print its credentials as JSON (the secret is shown only here).')
    .requiredOption('--role <role>', `role to assign: ${BUILT_IN_ROLES.map((r) => `"${r.roleName}"`).join(', ')}`)
    .option('--scopes <scopes...>', 'ARM ids to assign the role at (default: the subscription)')
    .option('--name <displayName>', 'display name of the client')
    .option('--data-dir <dir>', 'data directory of the running server (default: $MLSPACE_HOME/data)')
    .addHelpText(
      'after',
      `
Uses DATA_DIR/endpoints.json and the admin client the server created (adminClientFile).
The output works with @azure/identity's ClientSecretCredential(tenantId, clientId, clientSecret,
{ authorityHost: <endpoints.json authority>, disableInstanceDiscovery: true }).

Examples:
  mlspace ad sp create --role Reader --data-dir /tmp/mlspace
  mlspace ad sp create --role "Storage Blob Data Reader" --scopes /subscriptions/<id>/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct`,
    )
    .action(async (options: { role: string; scopes?: string[]; name?: string; dataDir?: string }) => {
      const endpoints = readEndpoints(options.dataDir ?? defaultDataDir());
      const admin = JSON.parse(fs.readFileSync(endpoints.adminClientFile, 'utf8')) as { tenantId: string; clientId: string; clientSecret: string };
      const ca = fs.readFileSync(endpoints.caFile);
      const rest = new ArmRest(endpoints.arm, new TokenSource({ ...admin, authority: endpoints.authority, ca }), ca);
      const created = await rest.post('/providers/Mlspace.Identity/servicePrincipals', { role: options.role, scopes: options.scopes, displayName: options.name });
      process.stdout.write(JSON.stringify(created, null, 2) + '\n');
    });

  const credential = sp.command('credential').description("A service principal's client secret.");
  withOutput(
    credential
      .command('reset')
      .description(
        "Give the principal a new client secret without downtime, on the key rotation engine (journaled, resumed after a crash): every datastore holding its secret is moved to the new one and verified before the old one stops working. Prints the new secret once.",
      )
      .requiredOption('--id <clientId>', "the principal's client id"),
  )
    .addHelpText('after', examples('mlspace ad sp credential reset --id 0b3f...e1'))
    .action(async (options: OutputOptions & { id: string }) => {
      const { rest } = await session();
      emit(await rest.post(`/providers/Mlspace.Identity/servicePrincipals/${encodeURIComponent(options.id)}/resetCredential?api-version=2022-04-01`), options);
    });

  withOutput(
    sp
      .command('consumers')
      .description("List every datastore, in any workspace and resource group, that holds the principal's client secret.")
      .requiredOption('--id <clientId>', "the principal's client id"),
  )
    .addHelpText('after', examples('mlspace ad sp consumers --id 0b3f...e1 -o table'))
    .action(async (options: OutputOptions & { id: string }) => {
      const { rest } = await session();
      const answer = await rest.post<{ value: { resourceGroup: string; workspaceName: string; datastoreName: string; accountName: string }[] }>(
        `/providers/Mlspace.Identity/servicePrincipals/${encodeURIComponent(options.id)}/listConsumers?api-version=2022-04-01`,
      );
      emit(answer.value, options, (item: (typeof answer.value)[number]) => ({
        ResourceGroup: item.resourceGroup,
        Workspace: item.workspaceName,
        Datastore: item.datastoreName,
        Account: item.accountName,
      }));
    });
}
