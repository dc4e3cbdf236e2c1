import type pg from 'pg';
import type { ResourceGroupRecord, ResourceGroupStore } from '../resource-groups.js';

interface GroupRow {
  name: string;
  location: string;
  tags: string;
  managed_by: string | null;
  /** BIGINT: pg hands it over as text. */
  created: string;
}

/** The PostgreSQL dialect's resource groups; names compare without regard to case through the `nocase` collation. */
export class PgResourceGroupRepo implements ResourceGroupStore {
  constructor(private readonly pool: pg.Pool) {}

  async get(name: string): Promise<ResourceGroupRecord | undefined> {
    const { rows } = await this.pool.query<GroupRow>('SELECT name, location, tags, managed_by, created FROM resource_groups WHERE name = $1', [name]);
    return rows[0] && fromRow(rows[0]);
  }

  async list(): Promise<ResourceGroupRecord[]> {
    const { rows } = await this.pool.query<GroupRow>('SELECT name, location, tags, managed_by, created FROM resource_groups ORDER BY name');
    return rows.map(fromRow);
  }

  async create(group: ResourceGroupRecord): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'INSERT INTO resource_groups (name, location, tags, managed_by, created) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
      [group.name, group.location, JSON.stringify(group.tags), group.managedBy ?? null, group.created],
    );
    return rowCount === 1;
  }

  async saveTags(group: ResourceGroupRecord): Promise<void> {
    await this.pool.query('UPDATE resource_groups SET tags = $1, managed_by = $2 WHERE name = $3', [JSON.stringify(group.tags), group.managedBy ?? null, group.name]);
  }

  async delete(name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM resource_groups WHERE name = $1', [name]);
    return rowCount === 1;
  }
}

function fromRow(row: GroupRow): ResourceGroupRecord {
  return { name: row.name, location: row.location, tags: JSON.parse(row.tags), managedBy: row.managed_by ?? undefined, created: Number(row.created) };
}
