import type { Db } from './sqlite.js';
import { transact } from './transact.js';

export type JobStatus = 'NotStarted' | 'Queued' | 'Running' | 'CancelRequested' | 'Completed' | 'Failed' | 'Canceled';

/** The statuses a job leaves only by ending. */
export const UNFINISHED: readonly JobStatus[] = ['NotStarted', 'Queued', 'Running', 'CancelRequested'];

/** One input of a command job: a file or folder (with its URI as given) or a literal value. */
export interface JobInputRecord {
  type: 'uri_file' | 'uri_folder' | 'literal';
  uri?: string;
  value?: string;
  /** As asked (ReadOnlyMount, Download, …); inputs are always downloaded here. */
  mode?: string;
  description?: string;
}

/** One output of a command job: where its directory is uploaded when the command ends. */
export interface JobOutputRecord {
  type: 'uri_file' | 'uri_folder' | 'custom_model' | 'mlflow_model';
  uri: string;
  mode?: string;
  description?: string;
}

/** A command job, its definition as Azure ML's Command job has it, and what became of it. */
export interface JobRecord {
  workspaceId: string;
  /** The workspace's resource group and name, as the job's ARM id spells them. */
  resourceGroup: string;
  workspaceName: string;
  name: string;
  displayName?: string;
  experimentName: string;
  description?: string;
  tags: Record<string, string>;
  properties: Record<string, string>;
  command: string;
  codeId?: string;
  environmentId: string;
  environmentVariables: Record<string, string>;
  inputs: Record<string, JobInputRecord>;
  outputs: Record<string, JobOutputRecord>;
  computeId?: string;
  /** limits.timeout, in seconds. */
  timeoutSeconds?: number;
  isArchived: boolean;
  status: JobStatus;
  /** The node that runs it (a job runs where it was created), and when that node last said it still does. */
  node?: string;
  heartbeat?: number;
  /** The command's process (and process group) id while it runs, on `host`. */
  pid?: number;
  host?: string;
  startTime?: number;
  endTime?: number;
  error?: { code: string; message: string };
  /** What a user should know about how it ran here (an input downloaded instead of mounted, the environment not built). */
  notes: string[];
  createdBy: { clientId: string; displayName: string };
  created: number;
  modified: number;
}

interface JobRow {
  workspace_id: string;
  name: string;
  status: JobStatus;
  doc: string;
  created: number | string;
  modified: number | string;
}

/** What a status change sets besides the status. */
export type JobChange = Partial<Pick<JobRecord, 'status' | 'node' | 'host' | 'heartbeat' | 'pid' | 'startTime' | 'endTime' | 'error' | 'notes' | 'isArchived' | 'tags' | 'displayName' | 'description'>>;

/**
 * Command jobs, as every dialect stores them (the SQLite one below,
 * src/db/postgres/jobs.ts). A job's status changes only by compare-and-set
 * (`update` with the statuses it may leave), so a cancel and the runner's own
 * progress never overwrite each other.
 */
export interface JobStore {
  /** False when the workspace has a job of that name already. */
  create(job: JobRecord): Promise<boolean>;
  get(workspaceId: string, name: string): Promise<JobRecord | undefined>;
  /** Up to `limit` jobs named after `after`, in name order. */
  list(workspaceId: string, after: string, limit: number): Promise<JobRecord[]>;
  /** Applies `change` when the job's status is one of `from` (any, when left out); answers the job as it is then, or undefined when it did not apply. */
  update(workspaceId: string, name: string, change: JobChange, from?: readonly JobStatus[]): Promise<JobRecord | undefined>;
  /** Every job not yet ended, in any workspace. */
  unfinished(): Promise<JobRecord[]>;
  delete(workspaceId: string, name: string): Promise<boolean>;
}

export function jobFromRow(row: JobRow): JobRecord {
  return { ...JSON.parse(row.doc), workspaceId: row.workspace_id, name: row.name, status: row.status, created: Number(row.created), modified: Number(row.modified) } as JobRecord;
}

/** The row's document: everything but the columns. */
export function jobDoc(job: JobRecord): string {
  const { workspaceId: _w, name: _n, status: _s, created: _c, modified: _m, ...doc } = job;
  return JSON.stringify(doc);
}

/** The SQLite dialect's jobs. */
export class JobRepo implements JobStore {
  private readonly stmt;

  constructor(private readonly db: Db) {
    this.stmt = {
      insert: db.prepare('INSERT INTO jobs (workspace_id, name, status, doc, created, modified) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      get: db.prepare('SELECT * FROM jobs WHERE workspace_id = ? AND name = ?'),
      list: db.prepare('SELECT * FROM jobs WHERE workspace_id = ? AND name > ? ORDER BY name LIMIT ?'),
      write: db.prepare('UPDATE jobs SET status = ?, doc = ?, modified = ? WHERE workspace_id = ? AND name = ?'),
      unfinished: db.prepare(`SELECT * FROM jobs WHERE status IN ('NotStarted', 'Queued', 'Running', 'CancelRequested') ORDER BY created`),
      delete: db.prepare('DELETE FROM jobs WHERE workspace_id = ? AND name = ?'),
    };
  }

  async create(job: JobRecord): Promise<boolean> {
    return this.stmt.insert.run(job.workspaceId, job.name, job.status, jobDoc(job), job.created, job.modified).changes === 1;
  }

  async get(workspaceId: string, name: string): Promise<JobRecord | undefined> {
    const row = this.stmt.get.get(workspaceId, name) as JobRow | undefined;
    return row && jobFromRow(row);
  }

  async list(workspaceId: string, after: string, limit: number): Promise<JobRecord[]> {
    return (this.stmt.list.all(workspaceId, after, limit) as JobRow[]).map(jobFromRow);
  }

  async update(workspaceId: string, name: string, change: JobChange, from?: readonly JobStatus[]): Promise<JobRecord | undefined> {
    return transact(this.db, () => {
      const row = this.stmt.get.get(workspaceId, name) as JobRow | undefined;
      if (!row || (from && !from.includes(row.status))) return undefined;
      const job = { ...jobFromRow(row), ...change, modified: Date.now() };
      this.stmt.write.run(job.status, jobDoc(job), job.modified, workspaceId, name);
      return job;
    });
  }

  async unfinished(): Promise<JobRecord[]> {
    return (this.stmt.unfinished.all() as JobRow[]).map(jobFromRow);
  }

  async delete(workspaceId: string, name: string): Promise<boolean> {
    return this.stmt.delete.run(workspaceId, name).changes === 1;
  }
}
