import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { BlobClient, ContainerListBlobsOptions } from '@azure/storage-blob';
import { CliError } from '../../errors.js';
import { emit } from '../../output/options.js';
import { examples } from '../common.js';
import { BLOB_PERMISSIONS, METADATA_HELP, numResults, parseMetadata } from './arguments.js';
import { blobTier, containerClient, withBlob, withContainer, type BlobOptions, type ContainerOptions } from './blob-common.js';
import { blobRow, blobView } from './blob-views.js';
import { explained, isNotFound } from './errors.js';
import { listUpTo, withNextMarker } from './paging.js';
import { blobSas, withSasOptions, type SasOptions } from './sas.js';

interface ListOptions extends ContainerOptions {
  prefix?: string;
  numResults: number;
  marker?: string;
  showNextMarker?: boolean;
  delimiter?: string;
  include?: ContainerListBlobsOptions;
}

/** `--include` letters, as az takes them. */
const INCLUDE: Record<string, keyof ContainerListBlobsOptions> = {
  c: 'includeCopy',
  d: 'includeDeleted',
  m: 'includeMetadata',
  s: 'includeSnapshots',
  t: 'includeTags',
  u: 'includeUncommitedBlobs',
  v: 'includeVersions',
};

function includeOptions(value: string): ContainerListBlobsOptions {
  const bad = [...value].filter((letter) => !(letter in INCLUDE));
  if (bad.length > 0) throw new InvalidArgumentError(`'${bad.join('')}' not understood; use letters of 'cdmstuv': (c)opy, (d)eleted, (m)etadata, (s)napshots, (t)ags, (u)ncommitted blobs, (v)ersions.`);
  return Object.fromEntries([...value].map((letter) => [INCLUDE[letter]!, true]));
}

/** A blob, or its snapshot. */
function blobClientOf(container: { getBlobClient(name: string): BlobClient }, name: string, snapshot?: string): BlobClient {
  const client = container.getBlobClient(name);
  return snapshot ? client.withSnapshot(snapshot) : client;
}

/** Get Blob Properties, whose 404 becomes a message naming the blob. */
async function propertiesOf(client: BlobClient, options: BlobOptions) {
  try {
    return await client.getProperties();
  } catch (error) {
    if (isNotFound(error)) throw new CliError(`The blob '${options.name}' was not found in container '${options.containerName}' (or the container does not exist).`, 3);
    throw error;
  }
}

export function registerBlobManagement(blob: Command): void {
  withContainer(blob.command('list').description('List the blobs in a container.'))
    .option('--prefix <prefix>', 'only blobs whose names start with this')
    .option('--num-results <n>', "the most blobs to list; '*' for all", numResults, 5000)
    .option('--marker <token>', 'go on from where a listing stopped (its next marker)')
    .option('--show-next-marker', 'end the list with {"nextMarker": ...}')
    .option('--delimiter <char>', "list the names up to the delimiter once, as virtual directories ('/')")
    .option('--include <letters>', 'also list: (c)opy info, (d)eleted, (m)etadata, (s)napshots, (t)ags, (u)ncommitted, (v)ersions', includeOptions)
    .addHelpText(
      'after',
      examples('mlspace storage blob list -c training --account-name mystorageaccount -o table', 'mlspace storage blob list -c training --prefix raw/ --query "[].name" -o tsv --account-name mystorageaccount'),
    )
    .action(async (options: ListOptions) => {
      const { access, container } = await containerClient(options);
      await explained(access, async () => {
        const listing = { prefix: options.prefix, ...options.include };
        const view = (item: Parameters<typeof blobView>[1]) => blobView(options.containerName, item);
        const { items, nextMarker } = options.delimiter
          ? await listUpTo(
              (continuationToken, maxPageSize) => container.listBlobsByHierarchy(options.delimiter!, listing).byPage({ continuationToken, maxPageSize }),
              (page) =>
                [...page.segment.blobPrefixes!.map((prefix) => ({ name: prefix.name })), ...page.segment.blobItems.map((item) => view({ ...item, ...item.properties }))].sort((a, b) =>
                  a.name < b.name ? -1 : 1,
                ),
              options.numResults,
              options.marker,
            )
          : await listUpTo(
              (continuationToken, maxPageSize) => container.listBlobsFlat(listing).byPage({ continuationToken, maxPageSize }),
              (page) => page.segment.blobItems.map((item) => view({ ...item, ...item.properties })),
              options.numResults,
              options.marker,
            );
        emit(withNextMarker(items, nextMarker, options.showNextMarker), options, (row) => ('properties' in row ? blobRow(row) : row));
      });
    });

  withBlob(blob.command('show').description("Show a blob's properties and metadata."))
    .option('--snapshot <id>', 'a snapshot of the blob, by its time stamp')
    .addHelpText('after', examples('mlspace storage blob show -c training -n data.csv --account-name mystorageaccount'))
    .action(async (options: BlobOptions & { snapshot?: string }) => {
      const { access, container } = await containerClient(options);
      await explained(access, async () => {
        const properties = await propertiesOf(blobClientOf(container, options.name, options.snapshot), options);
        emit(blobView(options.containerName, { name: options.name, snapshot: options.snapshot, ...properties }), options, blobRow);
      });
    });

  withBlob(blob.command('exists').description('Check whether a blob exists.'))
    .option('--snapshot <id>', 'a snapshot of the blob, by its time stamp')
    .addHelpText('after', examples('mlspace storage blob exists -c training -n data.csv --account-name mystorageaccount --query exists'))
    .action(async (options: BlobOptions & { snapshot?: string }) => {
      const { access, container } = await containerClient(options);
      await explained(access, async () => emit({ exists: await blobClientOf(container, options.name, options.snapshot).exists() }, options));
    });

  withBlob(blob.command('delete').description('Delete a blob (with --delete-snapshots, its snapshots too).'))
    .addOption(new Option('--delete-snapshots <which>', 'required for a blob with snapshots: include (the blob and its snapshots) or only (the snapshots)').choices(['include', 'only']))
    .option('--snapshot <id>', 'delete this snapshot of the blob only')
    .addHelpText('after', examples('mlspace storage blob delete -c training -n data.csv --account-name mystorageaccount'))
    .action(async (options: BlobOptions & { snapshot?: string; deleteSnapshots?: 'include' | 'only' }) => {
      const { access, container } = await containerClient(options);
      await explained(access, async () => {
        try {
          await blobClientOf(container, options.name, options.snapshot).delete({ deleteSnapshots: options.deleteSnapshots });
        } catch (error) {
          if (isNotFound(error) && (error as { code?: string }).code === 'BlobNotFound') {
            throw new CliError(`The blob '${options.name}' was not found in container '${options.containerName}'.`, 3);
          }
          throw error;
        }
      });
    });

  withSasOptions(withBlob(blob.command('generate-sas').description('Make a SAS token for a blob, signed with the account key (printed as a JSON string).')), BLOB_PERMISSIONS)
    .option('--full-uri', "print the blob's full URL with the SAS, not the SAS alone")
    .addHelpText(
      'after',
      examples(
        'mlspace storage blob generate-sas -c training -n data.csv --permissions r --expiry 2030-01-01T00:00Z --account-name mystorageaccount -o tsv',
        'mlspace storage blob generate-sas -c training -n data.csv --permissions rw --expiry 2030-01-01T00:00Z --https-only --full-uri --connection-string "$CS"',
      ),
    )
    .action(async (options: BlobOptions & SasOptions & { fullUri?: boolean }) => {
      const { access, container } = await containerClient(options, 'key');
      const sas = await blobSas(access, options.containerName, options.name, options);
      emit(options.fullUri ? `${container.getBlobClient(options.name).url}?${sas}` : sas, options);
    });

  withBlob(blob.command('url').description("Print a blob's URL (as a JSON string); with --sas-token, the URL carries it."))
    .addOption(new Option('--protocol <protocol>', 'the protocol of the URL').choices(['http', 'https']).default('https'))
    .option('--snapshot <id>', 'the URL of this snapshot of the blob')
    .addHelpText('after', examples('mlspace storage blob url -c training -n data.csv --account-name mystorageaccount -o tsv'))
    .action(async (options: BlobOptions & { protocol: 'http' | 'https'; snapshot?: string }) => {
      const { container } = await containerClient(options, 'endpoint');
      // The client's URL carries the SAS when one was given, as az's does.
      const url = new URL(blobClientOf(container, options.name, options.snapshot).url);
      // The scheme is the account's; only an explicit --protocol http changes it, as in az.
      if (options.protocol === 'http') url.protocol = 'http:';
      emit(url.toString(), options);
    });

  const metadata = blob.command('metadata').description("Manage a blob's metadata.").addHelpText('after', examples('mlspace storage blob metadata update -c training -n data.csv --metadata source=camera1 --account-name mystorageaccount'));
  withBlob(metadata.command('update').description("Set a blob's metadata, replacing all it had."))
    .option('--metadata <pairs...>', `${METADATA_HELP}; none clears the metadata`)
    .addHelpText('after', examples('mlspace storage blob metadata update -c training -n data.csv --metadata source=camera1 stage=raw --account-name mystorageaccount'))
    .action(async (options: BlobOptions & { metadata?: string[] }) => {
      const { access, container } = await containerClient(options);
      await explained(access, async () => {
        const client = container.getBlobClient(options.name);
        await propertiesOf(client, options);
        const answer = await client.setMetadata(parseMetadata(options.metadata) ?? {});
        emit({ etag: answer.etag ?? null, lastModified: answer.lastModified ?? null }, options);
      });
    });

  withBlob(blob.command('set-tier').description("Set a blob's access tier."))
    .requiredOption('--tier <tier>', 'block blobs: Hot, Cool, Cold or Archive; page blobs: P4 ... P80', blobTier)
    .addOption(new Option('-t, --type <type>', 'the blob type the tier is for').choices(['block', 'page']).default('block'))
    .addOption(new Option('-r, --rehydrate-priority <priority>', 'how fast to bring an archived blob back').choices(['High', 'Standard']))
    .addHelpText('after', examples('mlspace storage blob set-tier -c training -n data.csv --tier Cool --account-name mystorageaccount'))
    .action(async (options: BlobOptions & { tier: string; type: 'block' | 'page'; rehydratePriority?: 'High' | 'Standard' }) => {
      const pageTier = options.tier.startsWith('P');
      if (pageTier !== (options.type === 'page')) {
        throw new CliError(`--tier ${options.tier} is a ${pageTier ? 'page' : 'block'} blob tier but --type is ${options.type}; give ${pageTier ? '--type page' : 'a block tier (Hot, Cool, Cold, Archive)'}.`, 2);
      }
      const { access, container } = await containerClient(options);
      await explained(access, async () => {
        const client = container.getBlobClient(options.name);
        await propertiesOf(client, options);
        await client.setAccessTier(options.tier, { rehydratePriority: options.rehydratePriority });
      });
    });
}
