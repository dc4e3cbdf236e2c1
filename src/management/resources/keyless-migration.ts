import type { KeylessMigrationRecord } from '../../db/keyless-migrations.js';
import { migrateToKeyless } from '../../keyless/migrate.js';
import { accountId } from '../arm-ids.js';
import type { ManagementDeps } from '../deps.js';
import { readJsonObject } from '../http/body.js';
import type { ArmRequest, ArmResult } from '../http/context.js';
import { ArmError } from '../http/errors.js';
import { Fields } from '../http/fields.js';
import type { ArmRoute } from '../http/route.js';
import { authorize } from '../identity/authenticate.js';
import { roleById } from '../identity/role-definitions.js';
import { ACCOUNT_PATH, requireAccount } from './storage-accounts.js';

const MIGRATE = 'Microsoft.Storage/storageAccounts/migrateToKeyless/action';
const STATUS = { assigning: 'InProgress', verifying: 'InProgress', done: 'Succeeded', rolledBack: 'RolledBack' } as const;

function migrationJson(base: string, record: KeylessMigrationRecord, dryRun = false) {
  return {
    id: `${base}/keylessMigrations/${record.id}`,
    name: record.id,
    status: dryRun ? 'DryRun' : STATUS[record.state],
    created: new Date(record.created).toISOString(),
    targets: record.targets.map((target) => ({
      id: target.id,
      kind: target.kind,
      principalId: target.principalId,
      roles: target.grants.map((grant) => ({ roleDefinitionName: roleById(grant.roleDefinitionId)?.roleName, scope: grant.scope })),
      verifies: target.checks.map((check) => check.datastoreName),
    })),
    ...(record.error && { error: record.error }),
  };
}

/**
 * POST …/migrateToKeyless (an mlspace extension): moves the account's key-based
 * datastores, and workspaces with their system datastores, to identity access
 * (src/keyless/migrate.ts), or with `workspace` and `datastore` one datastore;
 * `dryRun` shows the plan. It assigns roles and rewrites datastores, so the caller
 * needs both. A failed verification is 409 with what failed; nothing changed.
 */
async function migrate(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const account = await requireAccount(deps, ctx);
  authorize(ctx.principal!, 'Microsoft.MachineLearningServices/workspaces/datastores/write', accountId(deps, account));
  const body = new Fields(await readJsonObject(ctx.req));
  const selection = { resourceGroup: body.string('resourceGroup'), workspace: body.string('workspace'), datastore: body.string('datastore') };
  if (selection.datastore !== undefined && selection.workspace === undefined) {
    throw new ArmError(400, 'InvalidRequestContent', "'datastore' names a datastore of a workspace: give 'workspace' (and 'resourceGroup' when the name is not unique) too.");
  }
  const dryRun = body.boolean('dryRun') ?? false;
  const record = await migrateToKeyless(deps, account, selection, ctx.principal!.clientId, dryRun);
  if (record.state === 'rolledBack') throw new ArmError(409, 'KeylessMigrationRolledBack', `Migration ${record.id} was rolled back: ${record.error!.message}`);
  ctx.activity = { properties: { migration: record.id, targets: String(record.targets.length), dryRun: String(dryRun) } };
  return { status: 200, body: migrationJson(accountId(deps, account), record, dryRun) };
}

async function status(deps: ManagementDeps, ctx: ArmRequest): Promise<ArmResult> {
  const account = await requireAccount(deps, ctx);
  const record = await deps.keylessMigrations.get(ctx.params.migrationId!);
  if (!record || record.account !== account.name) throw new ArmError(404, 'ResourceNotFound', `No keyless migration '${ctx.params.migrationId}' of account '${account.name}'.`);
  return { status: 200, body: migrationJson(accountId(deps, account), record) };
}

export function keylessMigrationRoutes(deps: ManagementDeps): ArmRoute[] {
  return [
    { method: 'POST', pattern: `${ACCOUNT_PATH}/migrateToKeyless`, action: 'Microsoft.Authorization/roleAssignments/write', activity: MIGRATE, handler: (ctx) => migrate(deps, ctx) },
    { method: 'GET', pattern: `${ACCOUNT_PATH}/keylessMigrations/{migrationId}`, action: 'Microsoft.Storage/storageAccounts/listConsumers/action', handler: (ctx) => status(deps, ctx) },
  ];
}
