import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { emit, withOutput, type OutputOptions } from '../output/options.js';
import type { ActivityEvent } from '../../sdk/activity-log.js';
import { examples, session } from './common.js';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** az's --offset: a time span such as 30m, 6h or 7d. */
function offset(value: string): number {
  const match = /^(\d+)([mhd])$/.exec(value);
  if (!match) throw new CliError(`--offset must be a number and a unit, m, h or d (30m, 6h, 7d); got '${value}'.`, 2);
  return Number(match[1]) * UNITS[match[2]!]!;
}

function time(name: string, value: string): Date {
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new CliError(`${name} must be an ISO 8601 time such as 2024-01-31T00:00:00Z; got '${value}'.`, 2);
  return parsed;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--max-events must be a positive whole number; got '${value}'.`, 2);
  return n;
}

/** `-o table`: the columns az shows for activity log events. */
const eventRow = (event: ActivityEvent) => ({
  EventTimestamp: event.eventTimestamp,
  Operation: event.operationName.localizedValue,
  Status: event.status.value,
  Caller: event.claims?.name ?? event.caller,
  ResourceGroup: event.resourceGroupName ?? '',
  Resource: event.resourceId.split('/').pop(),
});

interface ListOptions extends OutputOptions {
  startTime?: string;
  endTime?: string;
  offset: number;
  resourceGroup?: string;
  resourceId?: string;
  correlationId?: string;
  namespace?: string;
  caller?: string;
  status?: string;
  maxEvents: number;
}

/** `mlspace monitor activity-log list`: who did what to keys and credentials, as `az monitor activity-log list`. */
export function registerMonitor(program: Command): void {
  const monitor = program.command('monitor').description('Monitor the service: the activity log of key and credential operations.');
  const log = monitor.command('activity-log').description('Read the activity log.');
  withOutput(
    log
      .command('list')
      .description('List events, newest first: key listings and regenerations, key rotations, workspace key syncs, datastore credential changes.')
      .option('--start-time <time>', 'ISO 8601 start of the window (default: --offset before the end)')
      .option('--end-time <time>', 'ISO 8601 end of the window (default: now)')
      .option('--offset <span>', 'length of the window when --start-time is left out: 30m, 6h, 7d', offset, 6 * UNITS.h!)
      .option('-g, --resource-group <name>', 'only events of this resource group')
      .option('--resource-id <id>', 'only events of this resource (ARM id)')
      .option('--correlation-id <id>', 'only events of this operation (a key rotation\'s events share its id)')
      .option('--namespace <provider>', 'only events of this resource provider, e.g. Microsoft.Storage')
      .option('--caller <caller>', "only events of this caller (client id or display name)")
      .option('--status <status>', 'only events with this status: Accepted, Succeeded, Failed')
      .option('--max-events <n>', 'at most this many events', count, 50),
  )
    .addHelpText(
      'after',
      examples(
        'mlspace monitor activity-log list -g myresourcegroup --offset 7d -o table',
        'mlspace monitor activity-log list --namespace Microsoft.Storage --status Failed',
        'mlspace monitor activity-log list --correlation-id <rotation id> --query "[].{status:status.value, changed:properties.consumersChanged}"',
      ),
    )
    .action(async (options: ListOptions) => {
      const to = options.endTime ? time('--end-time', options.endTime) : new Date();
      const from = options.startTime ? time('--start-time', options.startTime) : new Date(to.getTime() - options.offset);
      const { activityLog } = await import('../../sdk/activity-log.js');
      const arm = await (await session()).clients();
      const wanted = (event: ActivityEvent) =>
        (!options.caller || event.caller === options.caller || event.claims?.name === options.caller) &&
        (!options.status || event.status.value.toLowerCase() === options.status.toLowerCase());
      const events: ActivityEvent[] = [];
      for await (const event of activityLog(arm, { from, to, resourceGroup: options.resourceGroup, resourceId: options.resourceId, correlationId: options.correlationId, provider: options.namespace })) {
        if (!wanted(event)) continue;
        events.push(event);
        if (events.length >= options.maxEvents) break;
      }
      emit(events, options, eventRow);
    });
}
