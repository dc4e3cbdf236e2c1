import { SEGMENT_END, SEGMENT_PREFIX } from '../bytes/segments.js';

export interface Migration {
  /** Unique and stable: recorded in `schema_migrations` once applied. */
  name: string;
  sql: string;
}

/**
 * A database that recorded a migration this release does not have was written
 * by a newer release: opening it could misread what that migration changed.
 */
export function refuseUnknownMigrations(applied: Iterable<string>, known: readonly Migration[]): void {
  const names = new Set(known.map((migration) => migration.name));
  const unknown = [...applied].filter((name) => !names.has(name));
  if (unknown.length > 0) {
    throw new Error(`The metadata database was migrated by a newer mlspace release (${unknown.join(', ')}); run that release, or a later one, against it.`);
  }
}

/**
 * Migration 015's map from the four roles of the one-role-per-principal model
 * to their built-in role definition ids: an SQL CASE on `column`, the same in
 * both dialects. Frozen with the migration; never follow later role changes.
 */
export function legacyRoleIds(column: string): string {
  return `CASE ${column}
    WHEN 'Owner' THEN '8e3af657-a8ff-443c-a75c-2fe8c4bcb635'
    WHEN 'Contributor' THEN 'b24988ac-6180-42a0-ab88-20f7382dd24c'
    WHEN 'Reader' THEN 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
    ELSE '81a9662b-bebf-436f-a333-f67b29880f12' END`;
}

/**
 * The metadata schema, as migrations applied in this order. Each is applied once,
 * inside a transaction, and recorded by name; never edit one that shipped.
 */
export const migrations: readonly Migration[] = [
  {
    name: '001-blob-service',
    sql: `
  CREATE TABLE accounts (
    name TEXT PRIMARY KEY,
    key1 TEXT NOT NULL,            -- sealed (secrets/seal.ts)
    key2 TEXT NOT NULL,            -- sealed
    key1_created INTEGER NOT NULL, -- ms since epoch
    key2_created INTEGER NOT NULL,
    allow_shared_key INTEGER NOT NULL DEFAULT 1,
    created INTEGER NOT NULL
  );
  CREATE TABLE containers (
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,             -- JSON ContainerRecord fields other than the key
    PRIMARY KEY (account, name)
  ) WITHOUT ROWID;
  CREATE TABLE blobs (
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,             -- JSON BlobRecord fields other than the key
    PRIMARY KEY (account, container, name)
  ) WITHOUT ROWID;
  CREATE TABLE blocks (
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    blob TEXT NOT NULL,
    block_id TEXT NOT NULL,
    content_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    seq INTEGER NOT NULL,          -- upload order, for Get Block List
    PRIMARY KEY (account, container, blob, block_id)
  ) WITHOUT ROWID;
  -- Reference counts of content files: a file is deleted once nothing refers to it.
  CREATE TABLE content (
    id TEXT PRIMARY KEY,
    refs INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE service_properties (
    account TEXT NOT NULL,
    service TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, service)
  ) WITHOUT ROWID;
  `,
  },
  {
    name: '002-file-service',
    sql: `
  CREATE TABLE shares (
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,             -- JSON ShareRecord fields other than the key
    PRIMARY KEY (account, name)
  ) WITHOUT ROWID;
  -- Directories and files, each share's root directory (key '') included.
  CREATE TABLE file_nodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- x-ms-file-id; AUTOINCREMENT never reuses one
    account TEXT NOT NULL,
    share TEXT NOT NULL,
    key TEXT NOT NULL,             -- lower-cased path: names are case-insensitive
    parent TEXT,                   -- key of the parent directory; NULL for the root
    name TEXT NOT NULL,            -- last path segment as created
    is_dir INTEGER NOT NULL,
    size INTEGER NOT NULL,         -- file length; 0 for directories
    doc TEXT NOT NULL,             -- JSON: times, etag, metadata, content headers, SMB properties
    UNIQUE (account, share, key)
  );
  CREATE INDEX file_nodes_children ON file_nodes (account, share, parent, key);
  -- The written ranges of each file, never overlapping; unwritten bytes read as zeros.
  -- Each row holds one reference (content table) on its content file.
  CREATE TABLE file_ranges (
    file_id INTEGER NOT NULL,
    first_byte INTEGER NOT NULL,
    last_byte INTEGER NOT NULL,    -- inclusive
    content_id TEXT NOT NULL,
    content_offset INTEGER NOT NULL, -- where first_byte is in the content file
    PRIMARY KEY (file_id, first_byte)
  ) WITHOUT ROWID;
  -- Security descriptors by key (Create Permission, x-ms-file-permission).
  CREATE TABLE file_permissions (
    account TEXT NOT NULL,
    share TEXT NOT NULL,
    key TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (account, share, key)
  ) WITHOUT ROWID;
  `,
  },
  // ---- management plane (branch `management`) ----
  {
    name: '003-management',
    sql: `
  -- The tenant and subscription this server is (one of each), chosen on first start.
  CREATE TABLE directory (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  -- Clients of the management plane. Only a salted hash of each secret is kept.
  CREATE TABLE service_principals (
    client_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created INTEGER NOT NULL
  );
  -- Resource group names are case-insensitive in ARM; NOCASE makes the database agree.
  CREATE TABLE resource_groups (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    location TEXT NOT NULL,
    tags TEXT NOT NULL,            -- JSON object
    managed_by TEXT,
    created INTEGER NOT NULL
  );
  -- Accounts declared at start-up (devstoreaccount1, MLSPACE_ACCOUNTS) live in this built-in group.
  INSERT INTO resource_groups (name, location, tags, created)
    VALUES ('mlspace-builtin', 'local', '{}', CAST(strftime('%s', 'now') AS INTEGER) * 1000);
  ALTER TABLE accounts ADD COLUMN resource_group TEXT NOT NULL DEFAULT 'mlspace-builtin' COLLATE NOCASE;
  ALTER TABLE accounts ADD COLUMN doc TEXT NOT NULL DEFAULT '{}';  -- JSON: location, sku, kind, tags, ARM properties
  CREATE INDEX accounts_by_group ON accounts (resource_group);
  CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,           -- workspaceId, a GUID
    resource_group TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL COLLATE NOCASE,
    storage_account TEXT NOT NULL,
    storage_key TEXT NOT NULL,     -- sealed: the workspace's copy of the account's key
    doc TEXT NOT NULL,             -- JSON: location, tags, sku, identity, ARM properties
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    UNIQUE (resource_group, name)
  );
  CREATE TABLE datastores (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    system INTEGER NOT NULL,       -- created with the workspace; resyncKeys refreshes its key
    is_default INTEGER NOT NULL,
    doc TEXT NOT NULL,             -- JSON properties, credentials without their secret
    secret TEXT,                   -- sealed account key or SAS token; NULL for credentialsType None
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, name)
  ) WITHOUT ROWID;
${assetTables('model')}  `,
  },
  // ---- declared accounts: regenerations of a declared account survive restarts
  {
    name: '005-account-declarations',
    sql: `
  CREATE TABLE account_declarations (
    name TEXT PRIMARY KEY,
    declaration TEXT NOT NULL      -- sealed: the keys MLSPACE_ACCOUNTS (or the dev account) declared last
  );
  `,
  },
  // ---- key rotation and the activity log (branch `rotation`) ----
  {
    name: '004-rotation',
    sql: `
  -- Consumer discovery looks datastores up by the account they point at, and workspaces by their linked account.
  CREATE INDEX datastores_by_account ON datastores (json_extract(doc, '$.accountName'));
  CREATE INDEX workspaces_by_account ON workspaces (storage_account);
  -- One row per rotation: what it was asked to do and where it stands. The
  -- partial unique index is what makes a second rotation of the same account a 409.
  CREATE TABLE rotations (
    id TEXT PRIMARY KEY,           -- GUID; also the correlation id of its activity log events
    account TEXT NOT NULL,
    resource_group TEXT NOT NULL COLLATE NOCASE,
    retire_index INTEGER NOT NULL, -- 0 = key1, 1 = key2
    reissue_sas INTEGER NOT NULL,
    status TEXT NOT NULL,          -- InProgress | Succeeded | Failed
    step TEXT NOT NULL,            -- the last journaled step
    phase TEXT NOT NULL,           -- started | done
    plan TEXT NOT NULL,            -- JSON: the plan as reported (no secrets)
    error TEXT,                    -- JSON {code, message} when Failed, or the reason of a rollback in progress
    caller_id TEXT NOT NULL,
    caller_name TEXT NOT NULL,
    attempts INTEGER NOT NULL,     -- runs of the engine: 1 + restarts that resumed it
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    ended INTEGER
  );
  CREATE UNIQUE INDEX rotations_one_running ON rotations (account) WHERE status = 'InProgress';
  CREATE INDEX rotations_by_account ON rotations (account, created);
  -- The journal: every step, before (started) and after (done) it runs.
  CREATE TABLE rotation_steps (
    rotation_id TEXT NOT NULL REFERENCES rotations (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    step TEXT NOT NULL,
    phase TEXT NOT NULL,
    at INTEGER NOT NULL,
    detail TEXT NOT NULL,          -- JSON counts; never a secret
    PRIMARY KEY (rotation_id, seq)
  ) WITHOUT ROWID;
  -- Each consumer a rotation changed, with the credential it held before (sealed),
  -- so that a rollback can restore it, and the one it was given (sealed).
  CREATE TABLE rotation_consumers (
    rotation_id TEXT NOT NULL REFERENCES rotations (id) ON DELETE CASCADE,
    consumer TEXT NOT NULL,        -- 'workspace:{workspaceId}' or 'datastore:{workspaceId}/{name}'
    resource_id TEXT NOT NULL,
    action TEXT NOT NULL,          -- moveKey | reissueSas
    old_secret TEXT NOT NULL,      -- sealed
    new_secret TEXT NOT NULL,      -- sealed
    state TEXT NOT NULL,           -- moved | verified | failed | restored | changedElsewhere
    detail TEXT,                   -- why verification failed (never a secret)
    PRIMARY KEY (rotation_id, consumer)
  ) WITHOUT ROWID;
  -- Who did what to keys and credentials, for the ARM activity log (Microsoft.Insights eventtypes/management).
  CREATE TABLE activity_log (
    id TEXT PRIMARY KEY,           -- eventDataId
    at INTEGER NOT NULL,
    resource_group TEXT COLLATE NOCASE,
    resource_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    status TEXT NOT NULL,          -- Started | Accepted | Succeeded | Failed
    caller_id TEXT NOT NULL,
    caller_name TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    properties TEXT NOT NULL       -- JSON; never a secret
  );
  CREATE INDEX activity_log_by_time ON activity_log (at);
  `,
  },
  // ---- small blobs kept in the metadata store
  {
    name: '006-inline-content',
    sql: `
  -- Bodies of small blobs, committed (and fsynced by the group commit) with the
  -- blob's row instead of as a file of their own; ids start with 'inline:' and
  -- are reference-counted in the content table like files.
  CREATE TABLE inline_content (
    id TEXT PRIMARY KEY,
    data BLOB NOT NULL
  ) WITHOUT ROWID;
  `,
  },
  // ---- blob snapshots
  {
    name: '007-blob-snapshots',
    sql: `
  -- Read-only copies of a blob at a point in time. A snapshot shares its blob's
  -- content files, holding a reference to each like the blob does.
  CREATE TABLE blob_snapshots (
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    name TEXT NOT NULL,
    snapshot TEXT NOT NULL,        -- the x-ms-snapshot time, as answered (ISO 8601, 7 fractional digits)
    doc TEXT NOT NULL,             -- JSON BlobRecord fields other than the key
    PRIMARY KEY (account, container, name, snapshot)
  ) WITHOUT ROWID;
  `,
  },
  // ---- append blobs
  {
    name: '008-append-blocks',
    sql: `
  -- The blocks of append blobs, in order: an append adds a row rather than
  -- rewriting the blob's row with an ever longer extent list.
  CREATE TABLE append_blocks (
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    blob TEXT NOT NULL,
    seq INTEGER NOT NULL,
    content_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (account, container, blob, seq)
  ) WITHOUT ROWID;
  `,
  },
  // ---- page blobs
  {
    name: '009-page-ranges',
    sql: `
  -- The written pages of page blobs and of their snapshots (snapshot '' is the
  -- blob itself), never overlapping; unwritten pages read as zeros, so a new
  -- page blob of any size has no rows and costs no disk. Each row holds one
  -- reference (content table) on its content file, which may be inline.
  CREATE TABLE page_ranges (
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    blob TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    first_byte INTEGER NOT NULL,
    last_byte INTEGER NOT NULL,      -- inclusive
    content_id TEXT NOT NULL,
    content_offset INTEGER NOT NULL, -- where first_byte is in the content file
    PRIMARY KEY (account, container, blob, snapshot, first_byte)
  ) WITHOUT ROWID;
  `,
  },
  // ---- blob versions and soft delete
  {
    name: '010-blob-versions',
    sql: `
  -- Previous versions of blobs (an account with versioning keeps one per write),
  -- and blobs deleted under a delete retention policy. Like snapshots, each row
  -- holds a reference on every content file it names (its page blob pages live
  -- in page_ranges under 'version:<id>' or 'deleted:<time>'). A soft-deleted
  -- version or snapshot keeps its row, its doc marked with deletedTime.
  CREATE TABLE blob_versions (
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    name TEXT NOT NULL,
    version_id TEXT NOT NULL,      -- the x-ms-version-id, as answered
    doc TEXT NOT NULL,
    PRIMARY KEY (account, container, name, version_id)
  ) WITHOUT ROWID;
  CREATE TABLE deleted_blobs (
    account TEXT NOT NULL,
    container TEXT NOT NULL,
    name TEXT NOT NULL,
    deleted_time TEXT NOT NULL,    -- when it was deleted (ISO 8601, 7 fractional digits), unique per name
    doc TEXT NOT NULL,
    PRIMARY KEY (account, container, name, deleted_time)
  ) WITHOUT ROWID;
  `,
  },
  {
    name: '011-retention-indexes',
    sql: `
  -- What the minute's purge looks for: the few soft-deleted rows whose retention
  -- runs out, found through these small indexes, not by reading every row.
  CREATE INDEX blob_snapshots_retention ON blob_snapshots (json_extract(doc, '$.retentionExpires')) WHERE json_extract(doc, '$.retentionExpires') IS NOT NULL;
  CREATE INDEX blob_versions_retention ON blob_versions (json_extract(doc, '$.retentionExpires')) WHERE json_extract(doc, '$.retentionExpires') IS NOT NULL;
  CREATE INDEX deleted_blobs_retention ON deleted_blobs (json_extract(doc, '$.retentionExpires')) WHERE json_extract(doc, '$.retentionExpires') IS NOT NULL;
  CREATE INDEX containers_retention ON containers (json_extract(doc, '$.retentionExpires')) WHERE json_extract(doc, '$.retentionExpires') IS NOT NULL;
  `,
  },
  {
    name: '012-settings',
    sql: `
  -- Values that belong to the deployment rather than to a resource: the master key's check value.
  CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  },
  {
    name: '013-cluster',
    sql: `
  -- The nodes of a multi-node deployment (PostgreSQL), each with its last heartbeat
  -- and the key epoch it has loaded; a single SQLite node leaves both tables empty
  -- but keeps them, so both dialects stay at one schema version.
  CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    started INTEGER NOT NULL,
    heartbeat INTEGER NOT NULL,
    epoch INTEGER NOT NULL
  ) WITHOUT ROWID;
  -- Bumped by every change to an account's keys or settings: a node serves
  -- authenticated requests only while it has loaded the current epoch.
  CREATE TABLE key_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch INTEGER NOT NULL
  );
  INSERT INTO key_epoch (id, epoch) VALUES (1, 0);
  -- The node running a rotation, until when; another node resumes it once the lease runs out.
  ALTER TABLE rotations ADD COLUMN owner TEXT;
  ALTER TABLE rotations ADD COLUMN lease_until INTEGER;
  `,
  },
  {
    // PostgreSQL's Put Blob in one statement (a stored function there); SQLite commits in
    // process, with no round trips to save, and records the version only.
    name: '014-put-blob-function',
    sql: '',
  },
  {
    // Role assignments with scopes replace the one role each principal had: each keeps it, at subscription scope.
    name: '015-role-assignments',
    sql: `
  CREATE TABLE role_assignments (
    name TEXT PRIMARY KEY,         -- a GUID, lower case
    scope TEXT NOT NULL,           -- an ARM resource id, as given
    role_definition_id TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    principal_type TEXT NOT NULL,
    created INTEGER NOT NULL,
    created_by TEXT
  ) WITHOUT ROWID;
  -- ARM ids compare without regard to case: one assignment of a role to a principal per scope.
  CREATE UNIQUE INDEX role_assignments_unique ON role_assignments (lower(scope), role_definition_id, principal_id);
  CREATE INDEX role_assignments_principal ON role_assignments (principal_id);
  INSERT INTO role_assignments (name, scope, role_definition_id, principal_id, principal_type, created)
    SELECT lower(substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-8' || substr(h, 18, 3) || '-' || substr(h, 21, 12)),
           '/subscriptions/' || (SELECT value FROM directory WHERE name = 'subscriptionId'),
           ${legacyRoleIds('role')}, client_id, 'ServicePrincipal', created
    FROM (SELECT hex(randomblob(16)) AS h, client_id, role, created FROM service_principals);
  ALTER TABLE service_principals DROP COLUMN role;
  `,
  },
  {
    // Migrations of consumers to keyless (identity) access, journaled: the last step commits with its `done`.
    name: '016-keyless-migrations',
    sql: `
  CREATE TABLE keyless_migrations (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    state TEXT NOT NULL,           -- assigning | verifying | done | rolledBack
    doc TEXT NOT NULL,             -- targets, planned role assignments, caller, error (JSON)
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
  );
  `,
  },
  {
    // The rotation engine also resets service principals' client secrets: a rotation's
    // kind says which; 'account' then holds the principal's client id (never a valid
    // account name, so one rotation at a time per account or principal still holds).
    name: '017-rotation-kinds',
    sql: `
  ALTER TABLE rotations ADD COLUMN kind TEXT NOT NULL DEFAULT 'accountKey';  -- accountKey | clientSecret
  ALTER TABLE rotations ADD COLUMN new_secret TEXT;                          -- sealed: the client secret consumers move to
  `,
  },
  {
    // Data assets and code snapshots, stored as models are; and command jobs, with their status beside the document.
    name: '018-data-code-jobs',
    sql: `
${assetTables('data')}${assetTables('code')}  CREATE TABLE jobs (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,          -- NotStarted | Queued | Running | CancelRequested | Completed | Failed | Canceled
    doc TEXT NOT NULL,             -- the definition, times, error and notes (JSON); never a secret
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, name)
  ) WITHOUT ROWID;
  CREATE INDEX jobs_unfinished ON jobs (status) WHERE status IN ('NotStarted', 'Queued', 'Running', 'CancelRequested');
  `,
  },
  {
    // Page writes appended to segments (src/bytes/segments.ts): their compactor finds the pages in a segment.
    name: '019-page-segments',
    sql: `
  CREATE INDEX page_ranges_segments ON page_ranges (content_id) WHERE content_id >= '${SEGMENT_PREFIX}' AND content_id < '${SEGMENT_END}';
  `,
  },
];

/** An asset kind's containers and versions: models (004), data assets and code (018). */
function assetTables(kind: 'model' | 'data' | 'code'): string {
  return `
  CREATE TABLE ${kind}_containers (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, name)
  ) WITHOUT ROWID;
  CREATE TABLE ${kind}_versions (
    workspace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    doc TEXT NOT NULL,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, name, version),
    FOREIGN KEY (workspace_id, name) REFERENCES ${kind}_containers (workspace_id, name) ON DELETE CASCADE
  ) WITHOUT ROWID;
`;
}
