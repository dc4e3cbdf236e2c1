import type { Db } from './sqlite.js';

/** Where accounts declared at start-up (devstoreaccount1, MLSPACE_ACCOUNTS) appear; created by migration 003. */
export const BUILTIN_RESOURCE_GROUP = 'mlspace-builtin';

export interface ResourceGroupRecord {
  /** As created; lookups ignore case, as ARM's do. */
  name: string;
  location: string;
  tags: Record<string, string>;
  managedBy?: string;
  created: number;
}

interface GroupRow {
  name: string;
  location: string;
  tags: string;
  managed_by: string | null;
  created: number;
}

/**
 * Resource groups, as every dialect stores them (the SQLite one below,
 * src/db/postgres/resource-groups.ts). Names compare without regard to case.
 */
export interface ResourceGroupStore {
  get(name: string): Promise<ResourceGroupRecord | undefined>;
  /** In name order. */
  list(): Promise<ResourceGroupRecord[]>;
  /** False when a group of that name (in any case) exists. */
  create(group: ResourceGroupRecord): Promise<boolean>;
  /** A group's location never changes; its tags and managedBy may. */
  saveTags(group: ResourceGroupRecord): Promise<void>;
  delete(name: string): Promise<boolean>;
}

/** The SQLite dialect's resource groups. */
export class ResourceGroupRepo implements ResourceGroupStore {
  private readonly selectOne;
  private readonly selectAll;
  private readonly insert;
  private readonly update;
  private readonly remove;

  constructor(db: Db) {
    this.selectOne = db.prepare('SELECT * FROM resource_groups WHERE name = ?');
    this.selectAll = db.prepare('SELECT * FROM resource_groups ORDER BY name');
    this.insert = db.prepare('INSERT INTO resource_groups (name, location, tags, managed_by, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
    this.update = db.prepare('UPDATE resource_groups SET tags = ?, managed_by = ? WHERE name = ?');
    this.remove = db.prepare('DELETE FROM resource_groups WHERE name = ?');
  }

  async get(name: string): Promise<ResourceGroupRecord | undefined> {
    const row = this.selectOne.get(name) as GroupRow | undefined;
    return row && fromRow(row);
  }

  async list(): Promise<ResourceGroupRecord[]> {
    return (this.selectAll.all() as GroupRow[]).map(fromRow);
  }

  async create(group: ResourceGroupRecord): Promise<boolean> {
    return this.insert.run(group.name, group.location, JSON.stringify(group.tags), group.managedBy ?? null, group.created).changes === 1;
  }

  async saveTags(group: ResourceGroupRecord): Promise<void> {
    this.update.run(JSON.stringify(group.tags), group.managedBy ?? null, group.name);
  }

  async delete(name: string): Promise<boolean> {
    return this.remove.run(name).changes === 1;
  }
}

function fromRow(row: GroupRow): ResourceGroupRecord {
  return { name: row.name, location: row.location, tags: JSON.parse(row.tags), managedBy: row.managed_by ?? undefined, created: row.created };
}
