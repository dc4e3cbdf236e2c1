import { isIP } from 'node:net';
import type { Command } from 'commander';
import { defaultDataDir, parseDatabaseUrl, parseDeclaredAccounts } from '../server/config.js';
import { DEFAULT_UPLOAD_LIMITS } from '../storage/http/body-limits.js';

interface UpOptions {
  dataDir?: string;
  database?: string;
  nodeLease: number;
  endpointsFile?: string;
  masterKeyFile?: string;
  host: string;
  blobPort: number;
  filePort: number;
  blobHttpsPort: number;
  fileHttpsPort: number;
  armPort: number;
  tlsName: string[];
  devAccount: boolean;
  allowDevAccountOnNetwork?: boolean;
  allowSharedDataDir?: boolean;
  idleTimeout: number;
  maxUploads: number;
  rehydrateDelay: number;
  asyncCopyDelay: number;
  enableLocalJobs?: boolean;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`'${value}' is not a port number (0-65535; 0 picks a free port).`);
  return n;
}

/** A DNS name (its first label may be `*`) or an IP address, as a certificate can name it. */
function tlsName(value: string, previous: string[] = []): string[] {
  if (isIP(value.replace(/^\[|\]$/g, '')) === 0 && !/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(value)) {
    throw new Error(`'${value}' is not a DNS name or IP address; give names like mlspace.example.com or *.blob.core.windows.net.`);
  }
  return [...previous, value.replace(/^\[|\]$/g, '')];
}

function positiveInteger(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`'${value}' is not a valid ${what}: use a whole number of at least 1.`);
    return n;
  };
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('Start the mlspace server: SQLite metadata and blob and file bytes in one data directory, or one node of several on PostgreSQL (--database).')
    .option('--data-dir <dir>', 'data directory (default: $MLSPACE_HOME/data, MLSPACE_HOME defaulting to ~/.mlspace)')
    .option('--database <url>', 'PostgreSQL URL for the metadata of a multi-node deployment (default: SQLite in the data directory; MLSPACE_DATABASE_URL sets it too)')
    .option('--node-lease <seconds>', 'with --database: how long a node serves signed requests without confirming its keys with the database', positiveInteger('node lease'), 5)
    .option('--endpoints-file <file>', 'where to write the endpoints once listening (default DATA_DIR/endpoints.json; one per node when nodes share a data directory)')
    .option('--master-key-file <file>', 'file holding the master key that seals secrets, outside the data directory (MLSPACE_MASTER_KEY wins)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--blob-port <port>', 'Blob service port (0 picks a free port)', port, 10000)
    .option('--arm-port <port>', 'HTTPS management (ARM) and token endpoint port (0 picks a free port)', port, 10443)
    .option('--file-port <port>', 'File service (Azure Files REST) port (0 picks a free port)', port, 10003)
    .option('--blob-https-port <port>', 'Blob service port over TLS, for bearer tokens and https URLs (0 picks a free port)', port, 10004)
    .option('--file-https-port <port>', 'File service port over TLS (0 picks a free port)', port, 10005)
    .option('--tls-name <name...>', 'more DNS names or addresses for the HTTPS certificate: the name clients use, or *.blob.core.windows.net for tools that cannot change it', tlsName, [])
    .option('--no-dev-account', 'do not create the well-known development account devstoreaccount1')
    .option('--allow-dev-account-on-network', 'serve devstoreaccount1, whose key is public, on a --host other than loopback')
    .option('--allow-shared-data-dir', 'start even if the data directory is open to other users (a shared volume you secure)')
    .option('--idle-timeout <seconds>', 'close a connection whose headers or body stall this long; nothing is stored', positiveInteger('idle timeout'), DEFAULT_UPLOAD_LIMITS.idleTimeoutMs / 1000)
    .option('--max-uploads <n>', 'uploads received at once before the server answers 503 ServerBusy', positiveInteger('upload bound'), DEFAULT_UPLOAD_LIMITS.maxConcurrent)
    .option('--rehydrate-delay <seconds>', 'how long a blob takes to leave the Archive tier (High priority: a tenth)', positiveInteger('rehydrate delay'), 60)
    .option('--async-copy-delay <seconds>', 'how long a Copy Blob between two accounts stays pending', positiveInteger('copy delay'), 2)
    .option('--enable-local-jobs', "run ML command jobs' code on this host, as the server's user (docs/jobs.md); off by default")
    .addHelpText(
      'after',
      `
The data directory must be private (chmod 700): every file in it is created 0600.
devstoreaccount1 is served on loopback only, unless --allow-dev-account-on-network.

Accounts besides devstoreaccount1 can be declared with MLSPACE_ACCOUNTS=name:key1[:key2];...
(Azurite's AZURITE_ACCOUNTS format); they appear in the resource group 'mlspace-builtin'.
Once listening, the server writes DATA_DIR/endpoints.json. URLs are path-style: connection
strings use BlobEndpoint=http://HOST:BLOB_PORT/ACCOUNT and FileEndpoint=http://HOST:FILE_PORT/ACCOUNT.
The TLS ports serve the same, and also host-style URLs: https://ACCOUNT.blob.localhost:PORT
(either TLS port serves either service by its host name; *.localhost needs an /etc/hosts line).
A local CA (caFile) signs the HTTPS certificates, and an Owner client (adminClientFile) is
created in DATA_DIR on first start; trust the CA with NODE_EXTRA_CA_CERTS=<caFile>.
Secrets are sealed with the master key from MLSPACE_MASTER_KEY, --master-key-file or
DATA_DIR/master.key (created on first start). The database remembers which key sealed
them: a server started with another one refuses to start and says so.

Several nodes (docs/scale-out.md): give each the same --database (PostgreSQL), the same
--data-dir on a shared volume, the same master key (not in the data directory) and its
own --endpoints-file; start them in any order, or at once; put nginx or HAProxy in front.
A key regenerated through any node is refused by every node once the call returns.

Examples:
  mlspace up
  mlspace up --data-dir /tmp/mlspace --blob-port 0 --file-port 0 --arm-port 0
  MLSPACE_ACCOUNTS="myaccount:$(openssl rand -base64 64 | tr -d '\\n')" mlspace up
  MLSPACE_MASTER_KEY="$(cat /run/secrets/mlspace-master-key)" mlspace up --host 0.0.0.0 --no-dev-account
  mlspace up --master-key-file /etc/mlspace/master.key
  # one of three nodes behind a load balancer:
  MLSPACE_MASTER_KEY=... mlspace up --database postgres://mlspace@db:5432/mlspace --data-dir /mnt/mlspace \\
    --endpoints-file /var/lib/mlspace/endpoints.json --host 0.0.0.0 --tls-name mlspace.example.com --no-dev-account
See docs/security.md for what the server promises about secrets, timeouts and limits.`,
    )
    .action(async (options: UpOptions) => {
      // The server's modules (SQLite, TLS, ...) load only for `up`, not for every other command.
      const [{ createLogger }, { startServer }] = await Promise.all([import('../server/log.js'), import('../server/server.js')]);
      const logger = createLogger();
      const starting = startServer(
        {
          dataDir: options.dataDir ?? defaultDataDir(),
          database: parseDatabaseUrl(options.database ?? process.env.MLSPACE_DATABASE_URL),
          nodeLeaseMs: options.nodeLease * 1000,
          endpointsFile: options.endpointsFile,
          masterKeyFile: options.masterKeyFile,
          host: options.host,
          blobPort: options.blobPort,
          armPort: options.armPort,
          tlsNames: options.tlsName,
          filePort: options.filePort,
          blobHttpsPort: options.blobHttpsPort,
          fileHttpsPort: options.fileHttpsPort,
          devAccount: options.devAccount,
          allowDevAccountOnNetwork: options.allowDevAccountOnNetwork ?? false,
          allowSharedDataDir: options.allowSharedDataDir ?? false,
          uploads: { idleTimeoutMs: options.idleTimeout * 1000, maxConcurrent: options.maxUploads },
          rehydrateDelayMs: options.rehydrateDelay * 1000,
          asyncCopyDelayMs: options.asyncCopyDelay * 1000,
          localJobs: options.enableLocalJobs ?? false,
          declaredAccounts: parseDeclaredAccounts(process.env.MLSPACE_ACCOUNTS),
        },
        logger,
      );
      // Listen for signals before endpoints.json appears: a script that reads it and
      // stops the server at once must get a clean shutdown, not a killed process.
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        starting
          .then((server) => server.close())
          .then(
            () => process.exit(0),
            (error: unknown) => {
              logger.error({ err: error }, 'shutdown failed');
              process.exit(1);
            },
          );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      const { blob, file, blobHttps, fileHttps, arm, caFile, adminClientFile } = (await starting).endpoints;
      process.stdout.write(
        `mlspace is up\n  blob: ${blob} and ${blobHttps}\n  file: ${file} and ${fileHttps}\n  arm:  ${arm}\n  CA:   ${caFile}\n  admin client: ${adminClientFile}\n`,
      );
    });
}
