import type pg from 'pg';
import { jobDoc, jobFromRow, UNFINISHED, type JobChange, type JobRecord, type JobStatus, type JobStore } from '../jobs.js';
import { transaction } from './sql.js';

const COLUMNS = 'workspace_id, name, status, doc, created, modified';

/** The PostgreSQL dialect's jobs; names sort byte-wise, as SQLite's do. */
export class PgJobRepo implements JobStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(job: JobRecord): Promise<boolean> {
    const { rowCount } = await this.pool.query(`INSERT INTO jobs (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, [
      job.workspaceId,
      job.name,
      job.status,
      jobDoc(job),
      job.created,
      job.modified,
    ]);
    return rowCount === 1;
  }

  async get(workspaceId: string, name: string): Promise<JobRecord | undefined> {
    const { rows } = await this.pool.query(`SELECT ${COLUMNS} FROM jobs WHERE workspace_id = $1 AND name = $2`, [workspaceId, name]);
    return rows[0] && jobFromRow(rows[0]);
  }

  async list(workspaceId: string, after: string, limit: number): Promise<JobRecord[]> {
    const { rows } = await this.pool.query(`SELECT ${COLUMNS} FROM jobs WHERE workspace_id = $1 AND name > $2 ORDER BY name LIMIT $3`, [workspaceId, after, limit]);
    return rows.map(jobFromRow);
  }

  async update(workspaceId: string, name: string, change: JobChange, from?: readonly JobStatus[]): Promise<JobRecord | undefined> {
    return transaction(this.pool, async (client) => {
      const { rows } = await client.query(`SELECT ${COLUMNS} FROM jobs WHERE workspace_id = $1 AND name = $2 FOR UPDATE`, [workspaceId, name]);
      if (!rows[0] || (from && !from.includes(rows[0].status))) return undefined;
      const job = { ...jobFromRow(rows[0]), ...change, modified: Date.now() };
      await client.query('UPDATE jobs SET status = $1, doc = $2, modified = $3 WHERE workspace_id = $4 AND name = $5', [job.status, jobDoc(job), job.modified, workspaceId, name]);
      return job;
    });
  }

  async unfinished(): Promise<JobRecord[]> {
    const { rows } = await this.pool.query(`SELECT ${COLUMNS} FROM jobs WHERE status = ANY($1) ORDER BY created`, [UNFINISHED]);
    return rows.map(jobFromRow);
  }

  async delete(workspaceId: string, name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM jobs WHERE workspace_id = $1 AND name = $2', [workspaceId, name]);
    return rowCount === 1;
  }
}
