import type { Command } from 'commander';
import type { ShareClient } from '@azure/storage-file-share';
import type { StorageTarget } from '../../../sdk/storage-target.js';
import { joinRemote } from '../../../sdk/transfer.js';
import { withOutput, type OutputOptions } from '../../output/options.js';
import { accountAccess, shareServiceClient, withStorageAuth, type Need, type StorageAccess, type StorageAuthOptions } from './auth.js';

export interface ShareOptions extends StorageAuthOptions, OutputOptions {
  shareName: string;
}

/** az's storage account arguments and the output arguments, on a file command. */
export function withFileAuth(command: Command): Command {
  return withOutput(withStorageAuth(command, 'file'));
}

/** `-s/--share-name`, required: a file command's share. */
export function withShare(command: Command): Command {
  return withFileAuth(command.requiredOption('-s, --share-name <name>', 'the file share'));
}

/** The access and the share's client, the package loaded only now. */
export async function shareClient(options: ShareOptions, need: Need = 'credential'): Promise<{ access: StorageAccess; share: ShareClient }> {
  const access = await accountAccess(options, 'file', need);
  return { access, share: (await shareServiceClient(access)).getShareClient(options.shareName) };
}

/** The share as a transfer target (the SDK's transfer machinery, shared with datastores). */
export async function shareTarget(access: StorageAccess, share: string): Promise<StorageTarget> {
  const { targetAt } = await import('../../../sdk/storage-target.js');
  return targetAt('AzureFile', access.serviceUrl, access.account, share, access.credential);
}

/** A path in a share, '/'-separated, without leading, trailing or doubled slashes. */
export function sharePath(value: string): string {
  return joinRemote(value);
}
