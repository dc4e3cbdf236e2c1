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
];
