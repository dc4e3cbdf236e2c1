import type pg from 'pg';
import { activityFromRow, type ActivityQuery, type ActivityRecord, type ActivityRow, type ActivityStore } from '../activity-log.js';

/**
 * The filters of src/db/activity-log.ts's query, spelt for PostgreSQL: resource_group
 * has the `nocase` collation, ids compare and order byte-wise (`COLLATE "C"`) as
 * SQLite's do, and LIKE is given no escape character, as SQLite's has none. The
 * cursor's time, read from a client's skipToken, compares as a number of any size,
 * as it does in SQLite, rather than failing as a BIGINT.
 */
const SELECT = `
  SELECT id, at, resource_group, resource_id, operation, status, caller_id, caller_name, correlation_id, properties
    FROM activity_log
   WHERE at >= $1 AND at <= $2
     AND ($3::text IS NULL OR resource_group = $3)
     AND ($4::text IS NULL OR lower(resource_id) = lower($4))
     AND ($5::text IS NULL OR correlation_id = $5)
     AND ($6::text IS NULL OR lower(operation) LIKE (lower($6) || '/%') ESCAPE '')
     AND ($7::float8 IS NULL OR at < $7::float8 OR (at = $7::float8 AND id COLLATE "C" < $8))
   ORDER BY at DESC, id COLLATE "C" DESC
   LIMIT $9`;

/** The PostgreSQL dialect's activity log: append-only, read newest first. */
export class PgActivityRepo implements ActivityStore {
  constructor(private readonly pool: pg.Pool) {}

  async add(record: ActivityRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO activity_log (id, at, resource_group, resource_id, operation, status, caller_id, caller_name, correlation_id, properties)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        record.id,
        record.at,
        record.resourceGroup ?? null,
        record.resourceId,
        record.operation,
        record.status,
        record.callerId,
        record.callerName,
        record.correlationId,
        JSON.stringify(record.properties),
      ],
    );
  }

  async query(query: ActivityQuery): Promise<ActivityRecord[]> {
    const { rows } = await this.pool.query<ActivityRow>(SELECT, [
      query.from,
      query.to,
      query.resourceGroup ?? null,
      query.resourceId ?? null,
      query.correlationId ?? null,
      query.provider ?? null,
      query.before?.at ?? null,
      query.before?.id ?? null,
      query.limit,
    ]);
    return rows.map(activityFromRow);
  }
}
