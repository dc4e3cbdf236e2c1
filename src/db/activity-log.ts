import type { Db } from './sqlite.js';

export interface ActivityRecord {
  id: string;
  at: number;
  resourceGroup?: string;
  resourceId: string;
  operation: string;
  status: 'Started' | 'Accepted' | 'Succeeded' | 'Failed';
  callerId: string;
  callerName: string;
  correlationId: string;
  /** Flat string values, as ARM's EventData.properties; never a secret. */
  properties: Record<string, string>;
}

export interface ActivityQuery {
  from: number;
  to: number;
  resourceGroup?: string;
  /** Exact resource id, compared without regard to case as ARM ids are. */
  resourceId?: string;
  correlationId?: string;
  /** Resource provider namespace, e.g. Microsoft.Storage. */
  provider?: string;
  /** Newest first: events strictly older than this (at, id) position. */
  before?: { at: number; id: string };
  limit: number;
}

/** An activity_log row, in either dialect (PostgreSQL hands BIGINT columns over as text). */
export interface ActivityRow {
  id: string;
  at: number | string;
  resource_group: string | null;
  resource_id: string;
  operation: string;
  status: ActivityRecord['status'];
  caller_id: string;
  caller_name: string;
  correlation_id: string;
  properties: string;
}

/**
 * The activity log, as every dialect stores it (the SQLite one below,
 * src/db/postgres/activity-log.ts): append-only, read newest first.
 */
export interface ActivityStore {
  add(record: ActivityRecord): Promise<void>;
  /** Events matching every filter given, newest first (by at, then id), at most `limit`. */
  query(query: ActivityQuery): Promise<ActivityRecord[]>;
}

/** The activity log: an append-only record of key and credential operations, read newest first. */
export class ActivityRepo implements ActivityStore {
  private readonly insert;
  private readonly select;

  constructor(db: Db) {
    this.insert = db.prepare(
      `INSERT INTO activity_log (id, at, resource_group, resource_id, operation, status, caller_id, caller_name, correlation_id, properties)
       VALUES (@id, @at, @resource_group, @resource_id, @operation, @status, @caller_id, @caller_name, @correlation_id, @properties)`,
    );
    this.select = db.prepare(
      `SELECT * FROM activity_log
        WHERE at >= @from AND at <= @to
          AND (@group IS NULL OR resource_group = @group)
          AND (@resource IS NULL OR lower(resource_id) = lower(@resource))
          AND (@correlation IS NULL OR correlation_id = @correlation)
          AND (@provider IS NULL OR lower(operation) LIKE lower(@provider) || '/%')
          AND (@before_at IS NULL OR at < @before_at OR (at = @before_at AND id < @before_id))
        ORDER BY at DESC, id DESC LIMIT @limit`,
    );
  }

  async add(record: ActivityRecord): Promise<void> {
    this.insert.run({
      id: record.id,
      at: record.at,
      resource_group: record.resourceGroup ?? null,
      resource_id: record.resourceId,
      operation: record.operation,
      status: record.status,
      caller_id: record.callerId,
      caller_name: record.callerName,
      correlation_id: record.correlationId,
      properties: JSON.stringify(record.properties),
    });
  }

  async query(query: ActivityQuery): Promise<ActivityRecord[]> {
    const rows = this.select.all({
      from: query.from,
      to: query.to,
      group: query.resourceGroup ?? null,
      resource: query.resourceId ?? null,
      correlation: query.correlationId ?? null,
      provider: query.provider ?? null,
      before_at: query.before?.at ?? null,
      before_id: query.before?.id ?? null,
      limit: query.limit,
    }) as ActivityRow[];
    return rows.map(activityFromRow);
  }
}

export function activityFromRow(row: ActivityRow): ActivityRecord {
  return {
    id: row.id,
    at: Number(row.at),
    resourceGroup: row.resource_group ?? undefined,
    resourceId: row.resource_id,
    operation: row.operation,
    status: row.status,
    callerId: row.caller_id,
    callerName: row.caller_name,
    correlationId: row.correlation_id,
    properties: JSON.parse(row.properties) as Record<string, string>,
  };
}
