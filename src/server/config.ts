import os from 'node:os';
import path from 'node:path';
import type { UploadLimits } from '../storage/http/body-limits.js';

export interface ServerConfig {
  dataDir: string;
  /** A PostgreSQL URL: the metadata of a multi-node deployment lives there instead of in the data directory's SQLite file. */
  database?: string;
  /** How long a node of a multi-node deployment trusts its key ring without confirming it with the database. */
  nodeLeaseMs: number;
  /** Where the server writes its endpoints once listening (default DATA_DIR/endpoints.json; nodes sharing a data directory need one each). */
  endpointsFile?: string;
  /** The master key's file when it lives outside the data directory (MLSPACE_MASTER_KEY still wins). */
  masterKeyFile?: string;
  host: string;
  /** 0 picks a free port. */
  blobPort: number;
  /** 0 picks a free port. */
  filePort: number;
  /** The Blob and File services over TLS (the Azure SDKs send bearer tokens only over HTTPS); 0 picks a free port. */
  blobHttpsPort: number;
  fileHttpsPort: number;
  /** More names (or addresses) the HTTPS certificate is valid for, beside localhost and the listening host. */
  tlsNames: string[];
  /** The HTTPS management and identity endpoint; 0 picks a free port. */
  armPort: number;
  devAccount: boolean;
  /** Serve devstoreaccount1 (whose key is public) on a non-loopback address all the same. */
  allowDevAccountOnNetwork: boolean;
  /** Start even when the data directory is open to other users (a shared volume whose permissions the operator sets). */
  allowSharedDataDir: boolean;
  /** Stalled-body and concurrent-upload bounds of the Blob and File services; the idle time also bounds management request bodies. */
  uploads: UploadLimits;
  /** How long a Standard-priority rehydration out of Archive takes (High: a tenth). */
  rehydrateDelayMs: number;
  /** How long a Copy Blob across accounts stays pending before its content arrives. */
  asyncCopyDelayMs: number;
  /** Run command jobs' code on this host (`--enable-local-jobs`); off, creating a job is refused. */
  localJobs: boolean;
  /** Accounts declared by `MLSPACE_ACCOUNTS` (Azurite's `AZURITE_ACCOUNTS` format). */
  declaredAccounts: DeclaredAccount[];
}

export interface DeclaredAccount {
  name: string;
  key1: string;
  key2?: string;
}

/** Azurite's well-known development account; UseDevelopmentStorage=true relies on it. */
export const DEV_ACCOUNT: DeclaredAccount = {
  name: 'devstoreaccount1',
  key1: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
};

/** Where mlspace keeps its data directory and the CLI's login: `$MLSPACE_HOME`, or `~/.mlspace`. */
export function mlspaceHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.MLSPACE_HOME ?? path.join(os.homedir(), '.mlspace');
}

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(mlspaceHome(env), 'data');
}

export const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;

/** Parses `name:key1[:key2];name:key1[:key2]`, refusing anything it cannot use with a message that says why. */
export function parseDeclaredAccounts(spec: string | undefined): DeclaredAccount[] {
  if (!spec?.trim()) return [];
  return spec
    .split(';')
    .filter((entry) => entry.trim() !== '')
    .map((entry) => {
      const [name = '', key1 = '', key2, ...rest] = entry.trim().split(':');
      if (rest.length > 0 || !ACCOUNT_NAME.test(name) || !isBase64Key(key1) || (key2 !== undefined && !isBase64Key(key2))) {
        throw new Error(
          `MLSPACE_ACCOUNTS entry for '${name}' is invalid: use name:key1[:key2] with a name of 3-24 lowercase letters and digits and base64 keys.`,
        );
      }
      // Canonical base64, as keys are compared by their sealing fingerprints (see Sealer).
      return { name, key1: canonicalKey(key1), key2: key2 === undefined ? undefined : canonicalKey(key2) };
    });
}

function canonicalKey(value: string): string {
  return Buffer.from(value, 'base64').toString('base64');
}

function isBase64Key(value: string): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length >= 16;
}

/**
 * Checks a `--database` / MLSPACE_DATABASE_URL value: a PostgreSQL URL, or
 * nothing for the embedded SQLite file. The message never repeats the value,
 * which may hold a password.
 */
export function parseDatabaseUrl(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['postgres:', 'postgresql:'].includes(url.protocol) || url.hostname === '' || url.pathname.length < 2) {
    throw new Error(
      'The database URL is not a PostgreSQL URL: use postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (or leave it out for the embedded SQLite file in the data directory).',
    );
  }
  return value;
}
