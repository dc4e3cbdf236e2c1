import { Option, type Command } from 'commander';
import { CliError } from '../errors.js';
import { emit, withOutput, type OutputOptions } from '../output/options.js';
import { rotationProgress } from '../rotation-progress.js';
import type { AccountRotationOutcome, KeyConsumer, KeylessReadiness, RotationStatus } from '../../sdk/key-rotation.js';
import { examples, session } from './common.js';

/** az names the keys primary and secondary; the service names them key1 and key2. */
const KEY_NAMES = { primary: 'key1', secondary: 'key2' } as const;

/** `-o table`: one row per consumer. */
const consumerRow = (consumer: KeyConsumer) => ({
  Kind: consumer.kind,
  ResourceGroup: consumer.resourceGroup,
  Workspace: consumer.workspaceName,
  Datastore: consumer.datastoreName ?? '',
  Credential: consumer.credentialsType,
  Matches: consumer.matches,
  SasExpiry: consumer.sas?.expiry ?? '',
});

/** `-o table` of --keyless-readiness: one row per consumer that turning Shared Key off would break. */
const readinessRow = (consumer: KeylessReadiness['blocking'][number]) => ({
  Consumer: consumer.id.replace(/^.*\/workspaces\//, ''),
  Credential: consumer.credentialsType,
  Fix: consumer.fix,
});

/** `-o table`: one row per rotation. */
const rotationRow = (status: RotationStatus) => ({
  Name: status.name,
  Status: status.status,
  Retired: status.properties.plan.retiredKey,
  Kept: status.properties.plan.keptKey,
  Verified: status.properties.counts.verified ?? 0,
  Restored: status.properties.counts.restored ?? 0,
  Error: status.error?.code ?? '',
});

/** An age in whole days, written `90d` (or just `90`). */
function days(value: string): number {
  const match = /^(\d+)d?$/.exec(value.trim());
  if (!match) throw new CliError(`--if-older-than takes an age in whole days such as 90d; got '${value}'.`, 2);
  return Number(match[1]);
}

interface RotateCliOptions extends OutputOptions {
  accountName?: string;
  resourceGroup?: string;
  key?: 'primary' | 'secondary';
  reissueSas?: boolean;
  dryRun?: boolean;
  ifOlderThan?: number;
  wait: boolean;
}

/** `keys consumers` and `keys rotate`: thin layers over the server's listConsumers and rotateKeys (docs/rotation.md). */
export function registerKeyRotation(keys: Command): void {
  withOutput(
    keys
      .command('consumers')
      .description('List every workspace and datastore, in any resource group, holding one of the account\'s credentials, and which key it matches (never the credential).')
      .requiredOption('-n, --account-name <name>', 'account name')
      .requiredOption('-g, --resource-group <name>', 'name of the resource group')
      .option('--keyless-readiness', 'instead, list what turning Shared Key access off would break, and what to do about each'),
  )
    .addHelpText(
      'after',
      examples(
        'mlspace storage account keys consumers -g myresourcegroup -n mystorageaccount -o table',
        'mlspace storage account keys consumers -g myresourcegroup -n mystorageaccount --keyless-readiness -o table',
        'mlspace storage account keys consumers -g myresourcegroup -n mystorageaccount --query "value[?matches==\'stale\'].id" -o tsv',
        'mlspace storage account keys consumers -g myresourcegroup -n mystorageaccount --query keyAges',
      ),
    )
    .action(async (options: OutputOptions & { accountName: string; resourceGroup: string; keylessReadiness?: boolean }) => {
      const { StorageAccountKeys } = await import('../../sdk/key-rotation.js');
      const result = await StorageAccountKeys.fromClients(await (await session()).clients(), options.resourceGroup, options.accountName).consumers();
      if (options.keylessReadiness) {
        const readiness = result.keylessReadiness;
        emit(options.output === 'table' && options.query === undefined ? readiness.blocking : readiness, options, readinessRow);
        return;
      }
      // A table shows the consumers; every other format the whole answer (key ages, counts, the active key).
      emit(options.output === 'table' && options.query === undefined ? result.value : result, options, consumerRow);
    });

  withOutput(
    keys
      .command('rotate')
      .description(
        'Rotate without downtime: move every consumer to the other key, verify each against the data plane, then regenerate the retired key. ' +
          'Journaled on the server: a crash resumes or rolls back, and a consumer that fails verification rolls it back before any key changes.',
      )
      .option('-n, --account-name <name>', 'account name (leave out, with --if-older-than, to rotate many accounts)')
      .option('-g, --resource-group <name>', 'name of the resource group (required with --account-name; limits a bulk rotation)')
      .addOption(new Option('--key <key>', 'the key to retire: primary (key1) or secondary (key2); default: the one the consumers use').choices(Object.keys(KEY_NAMES)))
      .option('--reissue-sas', 'give datastores whose SAS was signed with the retired key the same SAS signed with the kept key')
      .option('--dry-run', 'show the plan (which key, which consumers, what needs attention) and change nothing')
      .option('--if-older-than <age>', 'rotate only accounts whose active key is older than this many days, e.g. 90d (bulk)', days)
      .option('--no-wait', 'start the rotation and print its status without waiting for it to finish'),
  )
    .addHelpText(
      'after',
      examples(
        'mlspace storage account keys rotate -g myresourcegroup -n mystorageaccount --dry-run',
        'mlspace storage account keys rotate -g myresourcegroup -n mystorageaccount --reissue-sas',
        'mlspace storage account keys rotate -g myresourcegroup -n mystorageaccount --key secondary',
        'mlspace storage account keys rotate --if-older-than 90d -o table',
      ),
    )
    .action(async (options: RotateCliOptions, command: Command) => {
      if (options.accountName === undefined) return rotateMany(options);
      if (options.resourceGroup === undefined) throw new CliError("required option '-g, --resource-group <name>' not specified (it is needed with --account-name)", 2);
      if (options.ifOlderThan !== undefined) throw new CliError('--if-older-than selects accounts: leave out --account-name, or leave out --if-older-than to rotate this account now.', 2);
      const { StorageAccountKeys } = await import('../../sdk/key-rotation.js');
      const keys = StorageAccountKeys.fromClients(await (await session()).clients(), options.resourceGroup, options.accountName);
      const request = { keyName: options.key && KEY_NAMES[options.key], reissueSas: options.reissueSas };
      if (options.dryRun) return emit(await keys.plan(request), options);
      const { status, statusUrl } = await keys.beginRotate(request);
      if (!options.wait) return emit(status, options, rotationRow);
      const progress = rotationProgress(`Rotating ${status.properties.plan.retiredKey} of ${options.accountName}`);
      let final: RotationStatus | undefined;
      try {
        final = await keys.wait(statusUrl, { onProgress: (current) => progress.update(current) });
      } finally {
        progress.stop(final);
      }
      // On a terminal the summary line says it all; the status document is for -o json (or any -o, or --query).
      if (process.stdout.isTTY && command.getOptionValueSource('output') === 'default' && options.query === undefined) return;
      emit(final, options, rotationRow);
    });
}

/** `keys rotate` without an account: every account of the subscription (or group) whose active key is old enough. */
async function rotateMany(options: RotateCliOptions): Promise<void> {
  if (options.ifOlderThan === undefined) {
    throw new CliError("required option '-n, --account-name <name>' not specified (or give --if-older-than to rotate every account whose active key is that old)", 2);
  }
  if (options.key) throw new CliError('--key applies to one account; a bulk rotation retires each account\'s active key.', 2);
  const { rotateAccountKeys, waitForRotation } = await import('../../sdk/key-rotation.js');
  const arm = await (await session()).clients();
  const outcomes = await rotateAccountKeys(arm, { resourceGroup: options.resourceGroup, ifOlderThanDays: options.ifOlderThan, reissueSas: options.reissueSas, dryRun: options.dryRun });
  const results: (Omit<AccountRotationOutcome, 'action'> & { action: AccountRotationOutcome['action'] | 'failed' })[] = [];
  for (const outcome of outcomes) {
    if (outcome.action !== 'started' || !options.wait) {
      results.push(outcome);
      continue;
    }
    try {
      const status = await waitForRotation(arm.actions, outcome.operation!.azureAsyncOperation);
      results.push({ ...outcome, operation: { ...status, azureAsyncOperation: outcome.operation!.azureAsyncOperation } });
    } catch (error) {
      // One account's rollback does not stop the others; it is reported with its own status.
      results.push({ ...outcome, action: 'failed', reason: (error as Error).message });
    }
  }
  emit(results, options, (entry: (typeof results)[number]) => ({
    Account: entry.accountName,
    ResourceGroup: entry.resourceGroup,
    ActiveKey: entry.activeKey,
    AgeInDays: entry.activeKeyAgeInDays ?? '',
    Action: entry.action,
    Status: entry.operation?.status ?? '',
    Reason: entry.reason ?? '',
  }));
  if (results.some((entry) => entry.action === 'failed')) process.exitCode = 1;
}
