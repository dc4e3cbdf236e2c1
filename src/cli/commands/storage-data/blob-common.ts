import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { ContainerClient } from '@azure/storage-blob';
import type { StorageTarget } from '../../../sdk/storage-target.js';
import { withOutput, type OutputOptions } from '../../output/options.js';
import { accountAccess, blobServiceClient, withStorageAuth, type Need, type StorageAccess, type StorageAuthOptions } from './auth.js';

export interface ContainerOptions extends StorageAuthOptions, OutputOptions {
  containerName: string;
}

export interface BlobOptions extends ContainerOptions {
  name: string;
}

/** az's storage account arguments and the output arguments, on a blob command. */
export function withBlobAuth(command: Command): Command {
  return withOutput(withStorageAuth(command, 'blob'));
}

/** `-c/--container-name`, required: a blob command's container. */
export function withContainer(command: Command): Command {
  return withBlobAuth(command.requiredOption('-c, --container-name <name>', 'the container'));
}

/** `-c/--container-name` and `-n/--name`: one blob. */
export function withBlob(command: Command): Command {
  return withContainer(command.requiredOption('-n, --name <name>', "the blob's name"));
}

/** The access and the container's client, the package loaded only now. */
export async function containerClient(options: ContainerOptions, need: Need = 'credential'): Promise<{ access: StorageAccess; container: ContainerClient }> {
  const access = await accountAccess(options, 'blob', need);
  return { access, container: (await blobServiceClient(access)).getContainerClient(options.containerName) };
}

/** The container as a transfer target (the SDK's transfer machinery, shared with datastores). */
export async function containerTarget(access: StorageAccess, container: string): Promise<StorageTarget> {
  const { targetAt } = await import('../../../sdk/storage-target.js');
  return targetAt('AzureBlob', access.serviceUrl, access.account, container, access.credential);
}

const BLOCK_TIERS = ['Hot', 'Cool', 'Cold', 'Archive'];
const PAGE_TIERS = ['P4', 'P6', 'P10', 'P15', 'P20', 'P30', 'P40', 'P50', 'P60', 'P70', 'P80'];

/** A tier name in the service's spelling, whatever its case. */
export function blobTier(value: string): string {
  const tier = [...BLOCK_TIERS, ...PAGE_TIERS].find((name) => name.toLowerCase() === value.toLowerCase());
  if (!tier) throw new InvalidArgumentError(`expected a block blob tier (${BLOCK_TIERS.join(', ')}) or a page blob tier (${PAGE_TIERS[0]} ... ${PAGE_TIERS.at(-1)}).`);
  return tier;
}
