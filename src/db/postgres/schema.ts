import { legacyRoleIds, type Migration } from '../schema.js';

/**
 * The PostgreSQL dialect's schema: the same migrations, by the same names and
 * in the same order, as the SQLite dialect's (src/db/schema.ts, whose comments
 * say what each column holds), so both record the same schema version. What
 * differs is spelling: BIGINT for times and sizes, BYTEA for bytes, an identity
 * column for file ids, `(doc::jsonb ->> 'x')` for `json_extract(doc, '$.x')`,
 * and the `nocase` ICU collation (created by the runner) for COLLATE NOCASE.
 * The text columns of keys and indexes that the stores compare and order byte
 * by byte, as SQLite's BINARY does (`... COLLATE "C"` in their queries), are
 * declared COLLATE "C": an index serves such an ORDER BY or range only in the
 * collation of its column, not in the database's default one (whatever that
 * is). test/e2e/postgres-indexes.test.ts checks the listings' plans.
 * test/e2e/postgres-schema.test.ts checks that both have the same tables and columns.
 */
export const postgresMigrations: readonly Migration[] = [
  {
    name: '001-blob-service',
    sql: `
  CREATE TABLE accounts (
    name TEXT COLLATE "C" PRIMARY KEY,
    key1 TEXT NOT NULL,
    key2 TEXT NOT NULL,
    key1_created BIGINT NOT NULL,
    key2_created BIGINT NOT NULL,
    allow_shared_key INTEGER NOT NULL DEFAULT 1,
    created BIGINT NOT NULL
  );
  CREATE TABLE containers (
    account TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, name)
  );
  CREATE TABLE blobs (
    account TEXT COLLATE "C" NOT NULL,
    container TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, container, name)
  );
  CREATE TABLE blocks (
    account TEXT COLLATE "C" NOT NULL,
    container TEXT COLLATE "C" NOT NULL,
    blob TEXT COLLATE "C" NOT NULL,
    block_id TEXT COLLATE "C" NOT NULL,
    content_id TEXT NOT NULL,
    size BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (account, container, blob, block_id)
  );
  CREATE TABLE content (
    id TEXT COLLATE "C" PRIMARY KEY,
    refs BIGINT NOT NULL
  );
  CREATE TABLE service_properties (
    account TEXT COLLATE "C" NOT NULL,
    service TEXT COLLATE "C" NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, service)
  );
  `,
  },
  {
    name: '002-file-service',
    sql: `
  CREATE TABLE shares (
    account TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, name)
  );
  CREATE TABLE file_nodes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account TEXT COLLATE "C" NOT NULL,
    share TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    parent TEXT COLLATE "C",
    name TEXT NOT NULL,
    is_dir INTEGER NOT NULL,
    size BIGINT NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (account, share, key)
  );
  CREATE INDEX file_nodes_children ON file_nodes (account, share, parent, key);
  CREATE TABLE file_ranges (
    file_id BIGINT NOT NULL,
    first_byte BIGINT NOT NULL,
    last_byte BIGINT NOT NULL,
    content_id TEXT NOT NULL,
    content_offset BIGINT NOT NULL,
    PRIMARY KEY (file_id, first_byte)
  );
  CREATE TABLE file_permissions (
    account TEXT COLLATE "C" NOT NULL,
    share TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (account, share, key)
  );
  `,
  },
  {
    name: '003-management',
    sql: `
  CREATE TABLE directory (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE service_principals (
    client_id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created BIGINT NOT NULL
  );
  CREATE TABLE resource_groups (
    name TEXT COLLATE nocase PRIMARY KEY,
    location TEXT NOT NULL,
    tags TEXT NOT NULL,
    managed_by TEXT,
    created BIGINT NOT NULL
  );
  INSERT INTO resource_groups (name, location, tags, created)
    VALUES ('mlspace-builtin', 'local', '{}', (extract(epoch FROM now()) * 1000)::bigint);
  ALTER TABLE accounts ADD COLUMN resource_group TEXT COLLATE nocase NOT NULL DEFAULT 'mlspace-builtin';
  ALTER TABLE accounts ADD COLUMN doc TEXT NOT NULL DEFAULT '{}';
  CREATE INDEX accounts_by_group ON accounts (resource_group);
  CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    resource_group TEXT COLLATE nocase NOT NULL,
    name TEXT COLLATE nocase NOT NULL,
    storage_account TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    doc TEXT NOT NULL,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    UNIQUE (resource_group, name)
  );
  CREATE TABLE datastores (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL,
    system INTEGER NOT NULL,
    is_default INTEGER NOT NULL,
    doc TEXT NOT NULL,
    secret TEXT,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
  );
${assetTables('model')}  `,
  },
  {
    name: '005-account-declarations',
    sql: `
  CREATE TABLE account_declarations (
    name TEXT PRIMARY KEY,
    declaration TEXT NOT NULL
  );
  `,
  },
  {
    name: '004-rotation',
    sql: `
  CREATE INDEX datastores_by_account ON datastores ((doc::jsonb ->> 'accountName'));
  CREATE INDEX workspaces_by_account ON workspaces (storage_account);
  CREATE TABLE rotations (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    resource_group TEXT COLLATE nocase NOT NULL,
    retire_index INTEGER NOT NULL,
    reissue_sas INTEGER NOT NULL,
    status TEXT NOT NULL,
    step TEXT NOT NULL,
    phase TEXT NOT NULL,
    plan TEXT NOT NULL,
    error TEXT,
    caller_id TEXT NOT NULL,
    caller_name TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    ended BIGINT
  );
  CREATE UNIQUE INDEX rotations_one_running ON rotations (account) WHERE status = 'InProgress';
  CREATE INDEX rotations_by_account ON rotations (account, created);
  CREATE TABLE rotation_steps (
    rotation_id TEXT NOT NULL REFERENCES rotations (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    step TEXT NOT NULL,
    phase TEXT NOT NULL,
    at BIGINT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (rotation_id, seq)
  );
  CREATE TABLE rotation_consumers (
    rotation_id TEXT NOT NULL REFERENCES rotations (id) ON DELETE CASCADE,
    consumer TEXT COLLATE "C" NOT NULL,
    resource_id TEXT NOT NULL,
    action TEXT NOT NULL,
    old_secret TEXT NOT NULL,
    new_secret TEXT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT,
    PRIMARY KEY (rotation_id, consumer)
  );
  CREATE TABLE activity_log (
    id TEXT COLLATE "C" PRIMARY KEY,
    at BIGINT NOT NULL,
    resource_group TEXT COLLATE nocase,
    resource_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    status TEXT NOT NULL,
    caller_id TEXT NOT NULL,
    caller_name TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    properties TEXT NOT NULL
  );
  CREATE INDEX activity_log_by_time ON activity_log (at);
  `,
  },
  {
    name: '006-inline-content',
    sql: `
  CREATE TABLE inline_content (
    id TEXT COLLATE "C" PRIMARY KEY,
    data BYTEA NOT NULL
  );
  `,
  },
  {
    name: '007-blob-snapshots',
    sql: `
  CREATE TABLE blob_snapshots (
    account TEXT COLLATE "C" NOT NULL,
    container TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    snapshot TEXT COLLATE "C" NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, container, name, snapshot)
  );
  `,
  },
  {
    name: '008-append-blocks',
    sql: `
  CREATE TABLE append_blocks (
    account TEXT COLLATE "C" NOT NULL,
    container TEXT COLLATE "C" NOT NULL,
    blob TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    content_id TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (account, container, blob, seq)
  );
  `,
  },
  {
    name: '009-page-ranges',
    sql: `
  CREATE TABLE page_ranges (
    account TEXT COLLATE "C" NOT NULL,
    container TEXT COLLATE "C" NOT NULL,
    blob TEXT COLLATE "C" NOT NULL,
    snapshot TEXT COLLATE "C" NOT NULL,
    first_byte BIGINT NOT NULL,
    last_byte BIGINT NOT NULL,
    content_id TEXT NOT NULL,
    content_offset BIGINT NOT NULL,
    PRIMARY KEY (account, container, blob, snapshot, first_byte)
  );
  `,
  },
  {
    name: '010-blob-versions',
    sql: `
  CREATE TABLE blob_versions (
    account TEXT COLLATE "C" NOT NULL,
    container TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    version_id TEXT COLLATE "C" NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, container, name, version_id)
  );
  CREATE TABLE deleted_blobs (
    account TEXT COLLATE "C" NOT NULL,
    container TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    deleted_time TEXT COLLATE "C" NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (account, container, name, deleted_time)
  );
  `,
  },
  {
    name: '011-retention-indexes',
    sql: `
  CREATE INDEX blob_snapshots_retention ON blob_snapshots ((doc::jsonb ->> 'retentionExpires')) WHERE (doc::jsonb ->> 'retentionExpires') IS NOT NULL;
  CREATE INDEX blob_versions_retention ON blob_versions ((doc::jsonb ->> 'retentionExpires')) WHERE (doc::jsonb ->> 'retentionExpires') IS NOT NULL;
  CREATE INDEX deleted_blobs_retention ON deleted_blobs ((doc::jsonb ->> 'retentionExpires')) WHERE (doc::jsonb ->> 'retentionExpires') IS NOT NULL;
  CREATE INDEX containers_retention ON containers ((doc::jsonb ->> 'retentionExpires')) WHERE (doc::jsonb ->> 'retentionExpires') IS NOT NULL;
  `,
  },
  {
    name: '012-settings',
    sql: `
  CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  },
  {
    name: '013-cluster',
    sql: `
  CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    started BIGINT NOT NULL,
    heartbeat BIGINT NOT NULL,
    epoch BIGINT NOT NULL
  );
  CREATE TABLE key_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch BIGINT NOT NULL
  );
  INSERT INTO key_epoch (id, epoch) VALUES (1, 0);
  -- Any change to an account (keys, Shared Key switch, settings) bumps the epoch in
  -- its own transaction and wakes every node at commit: no writer can forget to.
  CREATE FUNCTION bump_key_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    UPDATE key_epoch SET epoch = epoch + 1 WHERE id = 1;
    PERFORM pg_notify('mlspace_keys', '');
    RETURN NULL;
  END
  $$;
  CREATE TRIGGER accounts_bump_key_epoch AFTER INSERT OR UPDATE OR DELETE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION bump_key_epoch();
  ALTER TABLE rotations ADD COLUMN owner TEXT;
  ALTER TABLE rotations ADD COLUMN lease_until BIGINT;
  `,
  },
  {
    name: '014-put-blob-function',
    sql: `
  -- Put Blob's commit in one statement (PgBlobStore.commitSeen), under the locks, in
  -- the order, that a transaction of blob-tx.ts takes: the container's row FOR SHARE,
  -- the blob's advisory lock, then the content rows by id. It commits only if the
  -- blob's row is still the one the caller read (p_seen; NULL: no blob) and answers
  -- the orphaned content files; NULL when the blob changed or the container is gone,
  -- for the caller to take the transactional path. Each statement of a VOLATILE
  -- function sees what committed before it ran, so the row read under the lock is current.
  CREATE FUNCTION put_blob_seen(p_account TEXT, p_container TEXT, p_name TEXT, p_seen TEXT, p_doc TEXT,
                                p_inline_id TEXT, p_inline_data BYTEA, p_adds TEXT[], p_releases TEXT[])
  RETURNS TEXT[] LANGUAGE plpgsql VOLATILE AS $$
  DECLARE
    v_current TEXT;
    v_dropped TEXT[];
    v_orphans TEXT[] := '{}';
    v_step RECORD;
    v_refs BIGINT;
  BEGIN
    PERFORM 1 FROM containers WHERE account = p_account AND name = p_container FOR SHARE;
    IF NOT FOUND THEN RETURN NULL; END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended(p_account || '/' || p_container || '/' || p_name, 0));
    SELECT doc INTO v_current FROM blobs WHERE account = p_account AND container = p_container AND name = p_name;
    IF v_current IS DISTINCT FROM p_seen THEN RETURN NULL; END IF;
    -- The blob's uncommitted blocks and own pages go, their content released (as dropBlobRows).
    WITH blocks_gone AS (DELETE FROM blocks WHERE account = p_account AND container = p_container AND blob = p_name RETURNING block_id, content_id),
         appended_gone AS (DELETE FROM append_blocks WHERE account = p_account AND container = p_container AND blob = p_name),
         pages_gone AS (DELETE FROM page_ranges WHERE account = p_account AND container = p_container AND blob = p_name AND snapshot = '' RETURNING first_byte, content_id)
    SELECT coalesce((SELECT array_agg(content_id ORDER BY block_id COLLATE "C") FROM blocks_gone), '{}')
           || coalesce((SELECT array_agg(content_id ORDER BY first_byte) FROM pages_gone), '{}')
      INTO v_dropped;
    IF p_inline_id IS NOT NULL THEN INSERT INTO inline_content (id, data) VALUES (p_inline_id, p_inline_data); END IF;
    INSERT INTO blobs (account, container, name, doc) VALUES (p_account, p_container, p_name, p_doc)
      ON CONFLICT (account, container, name) DO UPDATE SET doc = EXCLUDED.doc;
    -- Reference counts, as ContentLedger.settle replays its steps (adds first): a count
    -- that reaches zero drops its row, and its file is orphaned (inline content deleted).
    FOR v_step IN
      SELECT id, sum(delta) AS delta, bool_or(delta > 0) AS added
        FROM (SELECT id, 1 AS delta FROM unnest(p_adds) AS id UNION ALL SELECT id, -1 FROM unnest(p_releases || v_dropped) AS id) AS steps
       GROUP BY id ORDER BY id COLLATE "C"
    LOOP
      SELECT refs INTO v_refs FROM content WHERE id = v_step.id FOR UPDATE;
      IF NOT FOUND THEN
        IF v_step.delta > 0 THEN
          -- Added to, not set: another transaction may have made the row since.
          INSERT INTO content (id, refs) VALUES (v_step.id, v_step.delta) ON CONFLICT (id) DO UPDATE SET refs = content.refs + EXCLUDED.refs;
          CONTINUE;
        END IF;
        CONTINUE WHEN NOT v_step.added;
      ELSIF v_refs + v_step.delta > 0 THEN
        UPDATE content SET refs = v_refs + v_step.delta WHERE id = v_step.id;
        CONTINUE;
      ELSE
        DELETE FROM content WHERE id = v_step.id;
      END IF;
      IF v_step.id LIKE 'inline:%' THEN
        DELETE FROM inline_content WHERE id = v_step.id;
      ELSE
        v_orphans := v_orphans || v_step.id;
      END IF;
    END LOOP;
    RETURN v_orphans;
  END
  $$;
  `,
  },
  {
    // Role assignments with scopes replace the one role each principal had: each keeps it, at subscription scope.
    name: '015-role-assignments',
    sql: `
  CREATE TABLE role_assignments (
    name TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    role_definition_id TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    principal_type TEXT NOT NULL,
    created BIGINT NOT NULL,
    created_by TEXT
  );
  CREATE UNIQUE INDEX role_assignments_unique ON role_assignments (lower(scope), role_definition_id, principal_id);
  CREATE INDEX role_assignments_principal ON role_assignments (principal_id);
  INSERT INTO role_assignments (name, scope, role_definition_id, principal_id, principal_type, created)
    SELECT gen_random_uuid()::text, '/subscriptions/' || (SELECT value FROM directory WHERE name = 'subscriptionId'),
           ${legacyRoleIds('role')}, client_id, 'ServicePrincipal', created
    FROM service_principals;
  ALTER TABLE service_principals DROP COLUMN role;
  -- A role change reaches every node as a key change does: nodes drop the tokens and roles they cached.
  CREATE TRIGGER role_assignments_bump_key_epoch AFTER INSERT OR UPDATE OR DELETE ON role_assignments FOR EACH STATEMENT EXECUTE FUNCTION bump_key_epoch();
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
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
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
    name TEXT COLLATE "C" NOT NULL,
    status TEXT NOT NULL,          -- NotStarted | Queued | Running | CancelRequested | Completed | Failed | Canceled
    doc TEXT NOT NULL,             -- the definition, times, error and notes (JSON); never a secret
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
  );
  CREATE INDEX jobs_unfinished ON jobs (status) WHERE status IN ('NotStarted', 'Queued', 'Running', 'CancelRequested');
  `,
  },
  {
    // Segments are kept by a node alone, on SQLite (src/bytes/segments.ts): nodes sharing a database write no segments.
    name: '019-page-segments',
    sql: '',
  },
];

/** An asset kind's containers and versions: models (004), data assets and code (018). */
function assetTables(kind: 'model' | 'data' | 'code'): string {
  return `
  CREATE TABLE ${kind}_containers (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL,
    doc TEXT NOT NULL,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
  );
  CREATE TABLE ${kind}_versions (
    workspace_id TEXT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    version TEXT COLLATE "C" NOT NULL,
    doc TEXT NOT NULL,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name, version),
    FOREIGN KEY (workspace_id, name) REFERENCES ${kind}_containers (workspace_id, name) ON DELETE CASCADE
  );
`;
}
