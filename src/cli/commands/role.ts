import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { BUILT_IN_ROLES, findRole, roleById } from '../../management/identity/role-definitions.js';
import { roleAssignmentsPath, roleDefinitionsPath, shortScope } from '../arm-paths.js';
import { emit, withOutput, type OutputOptions } from '../output/options.js';
import { examples, groupOf, session } from './common.js';

interface AssignmentJson {
  id: string;
  name: string;
  type: string;
  properties: { principalId: string; principalType: string; roleDefinitionId: string; scope: string };
}

/** An assignment as `az role assignment` prints it: the properties flattened, with the role's name beside its id. */
function flatten(assignment: AssignmentJson) {
  const { properties } = assignment;
  return {
    id: assignment.id,
    name: assignment.name,
    principalId: properties.principalId,
    principalType: properties.principalType,
    resourceGroup: groupOf(properties.scope) ?? null,
    roleDefinitionId: properties.roleDefinitionId,
    roleDefinitionName: roleById(properties.roleDefinitionId.split('/').pop()!)?.roleName ?? null,
    scope: properties.scope,
    type: assignment.type,
  };
}

const assignmentRow = (item: ReturnType<typeof flatten>) => ({ Principal: item.principalId, Role: item.roleDefinitionName, Scope: shortScope(item.scope) });

function roleOrExit(name: string) {
  const role = findRole(name);
  if (!role) throw new Error(`Role '${name}' doesn't exist. Built-in roles: ${BUILT_IN_ROLES.map((r) => `"${r.roleName}"`).join(', ')}.`);
  return role;
}

/** `mlspace role assignment ...` and `mlspace role definition list`, shaped as az role. */
export function registerRole(program: Command): void {
  const role = program
    .command('role')
    .description('Manage role assignments (who may do what, where) and list role definitions.')
    .addHelpText(
      'after',
      examples(
        'mlspace role assignment create --assignee <clientId> --role "Storage Blob Data Reader" --scope <account id>/blobServices/default/containers/data',
        'mlspace role assignment list --assignee <clientId> -o table',
        'mlspace role definition list --name "Storage Blob Data Contributor"',
      ),
    );
  const assignment = role.command('assignment').description('Role assignments: a role given to a principal at a scope and everything under it.');

  withOutput(
    assignment
      .command('create')
      .description('Assign a role to a principal at a scope (only Owner and User Access Administrator may).')
      .requiredOption('--assignee <clientId>', "the principal's client (object) id, as 'mlspace ad sp create' printed it")
      .requiredOption('--role <role>', 'role name or id, e.g. "Storage Blob Data Contributor"')
      .requiredOption('--scope <scope>', 'ARM id: subscription, resource group, storage account, container or file share'),
  )
    .addHelpText(
      'after',
      examples('mlspace role assignment create --assignee 0b3f...e1 --role Contributor --scope /subscriptions/<id>/resourceGroups/team-a'),
    )
    .action(async (options: OutputOptions & { assignee: string; role: string; scope: string }) => {
      const definition = roleOrExit(options.role);
      const { rest, subscriptionId } = await session();
      const body = {
        properties: {
          roleDefinitionId: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${definition.id}`,
          principalId: options.assignee,
          principalType: 'ServicePrincipal',
        },
      };
      emit(flatten((await rest.put(roleAssignmentsPath(options.scope, randomUUID()), body)) as AssignmentJson), options, assignmentRow);
    });

  withOutput(
    assignment
      .command('list')
      .description('List role assignments at a scope: those at it, above it (inherited) and below it.')
      .option('--assignee <clientId>', "only this principal's")
      .option('--role <role>', 'only this role')
      .option('--scope <scope>', 'ARM id to list at (default: the subscription)'),
  )
    .addHelpText('after', examples('mlspace role assignment list --assignee 0b3f...e1 -o table'))
    .action(async (options: OutputOptions & { assignee?: string; role?: string; scope?: string }) => {
      const wanted = options.role === undefined ? undefined : roleOrExit(options.role);
      const { rest, subscriptionId } = await session();
      const filter = options.assignee === undefined ? undefined : `principalId eq '${options.assignee}'`;
      const listed = (await rest.list(roleAssignmentsPath(options.scope ?? `/subscriptions/${subscriptionId}`, undefined, filter))) as AssignmentJson[];
      const shown = listed.map(flatten).filter((item) => wanted === undefined || item.roleDefinitionId.toLowerCase().endsWith(wanted.id));
      emit(shown, options, assignmentRow);
    });

  assignment
    .command('delete')
    .description('Remove role assignments: by --ids, or every one matching --assignee, --role and --scope.')
    .option('--ids <ids...>', 'full ids of the assignments to remove')
    .option('--assignee <clientId>', "the principal's client (object) id")
    .option('--role <role>', 'role name or id')
    .option('--scope <scope>', 'ARM id the assignment was made at')
    .addHelpText('after', examples('mlspace role assignment delete --assignee 0b3f...e1 --role Reader --scope /subscriptions/<id>'))
    .action(async (options: { ids?: string[]; assignee?: string; role?: string; scope?: string }) => {
      const { rest, subscriptionId } = await session();
      let ids = options.ids;
      if (ids === undefined) {
        if (options.assignee === undefined && options.role === undefined) throw new Error('Give --ids, or --assignee and/or --role (with --scope) to say which assignments to remove.');
        const wanted = options.role === undefined ? undefined : roleOrExit(options.role);
        const scope = options.scope ?? `/subscriptions/${subscriptionId}`;
        const filter = `atScope()${options.assignee === undefined ? '' : ` and principalId eq '${options.assignee}'`}`;
        const listed = ((await rest.list(roleAssignmentsPath(scope, undefined, filter))) as AssignmentJson[]).map(flatten);
        ids = listed
          .filter((item) => item.scope.toLowerCase() === scope.replace(/\/+$/, '').toLowerCase())
          .filter((item) => wanted === undefined || item.roleDefinitionId.toLowerCase().endsWith(wanted.id))
          .map((item) => item.id);
        if (ids.length === 0) throw new Error('No role assignment matches; nothing was removed (mlspace role assignment list shows them).');
      }
      for (const id of ids) await rest.delete(`${id}?api-version=2022-04-01`);
    });

  const definition = role.command('definition').description('Role definitions: the built-in roles and what each allows.');
  withOutput(definition.command('list').description('List role definitions.').option('--name <name>', 'only the role of this name'))
    .addHelpText('after', examples('mlspace role definition list -o table', 'mlspace role definition list --name "Storage Blob Data Reader" --query "[].permissions"'))
    .action(async (options: OutputOptions & { name?: string }) => {
      const { rest, subscriptionId } = await session();
      const filter = options.name === undefined ? undefined : `roleName eq '${options.name.replace(/'/g, "''")}'`;
      const listed = (await rest.list(roleDefinitionsPath(`/subscriptions/${subscriptionId}`, filter))) as { id: string; name: string; type: string; properties: Record<string, unknown> }[];
      emit(
        listed.map((item) => ({ id: item.id, name: item.name, type: item.type, ...item.properties })),
        options,
        (item: { roleName: string; description: string }) => ({ Name: item.roleName, Description: item.description }),
      );
    });
}
