import { randomUUID } from 'node:crypto';
import type { ActivityQuery, ActivityRecord, ActivityStore } from '../../db/activity-log.js';
import type { Logger } from '../../server/log.js';

/** Who performed an operation: a management client. */
export interface Caller {
  clientId: string;
  displayName: string;
}

interface ActivityEvent {
  operation: string;
  resourceId: string;
  resourceGroup?: string;
  status: ActivityRecord['status'];
  caller: Caller;
  /** Ties the events of one operation together (a rotation's start and end); a new id when absent. */
  correlationId?: string;
  /** Non-secret facts: counts, key names, resource ids of the consumers changed. */
  properties?: Record<string, unknown>;
}

/**
 * The activity log of key and credential operations (listKeys, regenerateKey,
 * resyncKeys, datastore credential changes, rotations). Callers pass only
 * facts that are safe to show a Reader: never a key, SAS token or secret.
 */
export class ActivityLog {
  constructor(
    private readonly repo: ActivityStore,
    private readonly logger: Logger,
  ) {}

  async record(event: ActivityEvent): Promise<void> {
    const properties: Record<string, string> = {};
    for (const [name, value] of Object.entries(event.properties ?? {})) {
      if (value === undefined) continue;
      // ARM's EventData.properties is a map of strings; structured values travel as JSON text.
      properties[name] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    try {
      await this.repo.add({
        id: randomUUID(),
        at: Date.now(),
        resourceGroup: event.resourceGroup,
        resourceId: event.resourceId,
        operation: event.operation,
        status: event.status,
        callerId: event.caller.clientId,
        callerName: event.caller.displayName,
        correlationId: event.correlationId ?? randomUUID(),
        properties,
      });
    } catch (error) {
      // The operation itself has happened; losing its log line must not turn it into an error.
      this.logger.error({ err: error, operation: event.operation }, 'activity log write failed');
    }
  }

  list(query: ActivityQuery): Promise<ActivityRecord[]> {
    return this.repo.query(query);
  }
}

/** A list of resource ids for an event, bounded so one rotation of ten thousand consumers stays a readable event. */
export function boundedIds(ids: string[], max = 50): { ids: string[]; total: number } {
  return { ids: ids.slice(0, max), total: ids.length };
}
