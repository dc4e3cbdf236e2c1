import type { RoleName } from '../../db/directory.js';

/**
 * The built-in roles, as Azure defines them: actions are `Provider/type/operation`
 * strings matched without regard to case, `*` matching any run of characters.
 * Contributor is Owner without the right to grant access (which is what creating
 * a service principal with a role amounts to). The key operator role is Azure's
 * "Storage Account Key Operator Service Role": list and regenerate keys, nothing
 * else, not even reading the account.
 */
const ROLES: Record<RoleName, { actions: string[]; notActions: string[] }> = {
  Owner: { actions: ['*'], notActions: [] },
  Contributor: { actions: ['*'], notActions: ['Microsoft.Authorization/*/Write', 'Microsoft.Authorization/*/Delete'] },
  Reader: { actions: ['*/read'], notActions: [] },
  'Storage Account Key Operator Service Role': {
    // listConsumers (an mlspace extension) shows which key each consumer holds: whoever may list the keys may see it.
    actions: [
      'Microsoft.Storage/storageAccounts/listkeys/action',
      'Microsoft.Storage/storageAccounts/regeneratekey/action',
      'Microsoft.Storage/storageAccounts/listConsumers/action',
    ],
    notActions: [],
  },
};

export const ROLE_NAMES = Object.keys(ROLES) as RoleName[];

/** Accepts the role names case-insensitively, and 'Storage Account Key Operator' for short. */
export function parseRole(name: string): RoleName | undefined {
  const wanted = name.toLowerCase();
  if (wanted === 'storage account key operator') return 'Storage Account Key Operator Service Role';
  return ROLE_NAMES.find((role) => role.toLowerCase() === wanted);
}

const patterns = new Map<string, RegExp>();
function matches(pattern: string, action: string): boolean {
  let regex = patterns.get(pattern);
  if (!regex) {
    regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`, 'i');
    patterns.set(pattern, regex);
  }
  return regex.test(action);
}

export function roleAllows(role: RoleName, action: string): boolean {
  const definition = ROLES[role];
  return definition.actions.some((pattern) => matches(pattern, action)) && !definition.notActions.some((pattern) => matches(pattern, action));
}
