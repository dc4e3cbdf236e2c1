export interface Migration {
  /** Unique and stable: recorded in `schema_migrations` once applied. */
  name: string;
  sql: string;
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
];
