/**
 * The management paths the CLI calls through ArmRest, each with the API
 * version Azure's own clients send for it (mlspace accepts any).
 */
const segment = encodeURIComponent;

export function groupsPath(subscriptionId: string, group?: string): string {
  return `/subscriptions/${segment(subscriptionId)}/resourcegroups${group === undefined ? '' : `/${segment(group)}`}?api-version=2021-04-01`;
}

const STORAGE_API = 'api-version=2023-01-01';

/** A storage account, or with `action` one of its POST actions (listKeys, regenerateKey). */
export function storageAccountPath(subscriptionId: string, group: string, name: string, action?: string): string {
  return `/subscriptions/${segment(subscriptionId)}/resourceGroups/${segment(group)}/providers/Microsoft.Storage/storageAccounts/${segment(name)}${action ? `/${action}` : ''}?${STORAGE_API}`;
}

/** The storage accounts of a resource group, or (without one) of the subscription. */
export function storageAccountsPath(subscriptionId: string, group?: string): string {
  const scope = group === undefined ? '' : `/resourceGroups/${segment(group)}`;
  return `/subscriptions/${segment(subscriptionId)}${scope}/providers/Microsoft.Storage/storageAccounts?${STORAGE_API}`;
}

const ML_API = 'api-version=2023-04-01';

/** Workspaces of a resource group or subscription, one workspace, or (with `rest`) something inside it. */
export function workspacePath(subscriptionId: string, group: string | undefined, workspace?: string, ...rest: string[]): string {
  const scope = group === undefined ? '' : `/resourceGroups/${segment(group)}`;
  const inside = [workspace, ...rest].filter((part): part is string => part !== undefined).map(segment);
  return `/subscriptions/${segment(subscriptionId)}${scope}/providers/Microsoft.MachineLearningServices/workspaces${inside.map((part) => `/${part}`).join('')}?${ML_API}`;
}

const AUTHORIZATION_API = 'api-version=2022-04-01';

/** Role assignments at a scope (an ARM id, its slashes kept), or one of them by name. */
export function roleAssignmentsPath(scope: string, name?: string, filter?: string): string {
  const query = filter === undefined ? '' : `&$filter=${encodeURIComponent(filter)}`;
  return `${scope.replace(/\/+$/, '')}/providers/Microsoft.Authorization/roleAssignments${name === undefined ? '' : `/${segment(name)}`}?${AUTHORIZATION_API}${query}`;
}

/** The role definitions visible at a scope. */
export function roleDefinitionsPath(scope: string, filter?: string): string {
  const query = filter === undefined ? '' : `&$filter=${encodeURIComponent(filter)}`;
  return `${scope.replace(/\/+$/, '')}/providers/Microsoft.Authorization/roleDefinitions?${AUTHORIZATION_API}${query}`;
}

/**
 * A scope as a table shows it, to fit a terminal: below the subscription, with the
 * provider and default-service segments left out
 * (`rg/storageAccounts/acct/containers/data`); `/` for the subscription itself.
 */
export function shortScope(scope: string): string {
  const short = scope
    .replace(/^\/subscriptions\/[^/]+/i, '')
    .replace(/^\/resourceGroups\//i, '')
    .replace(/\/providers\/Microsoft\.[A-Za-z]+\//gi, '/')
    .replace(/\/(blobServices|fileServices)\/default\//gi, '/');
  return short === '' ? '/' : short;
}
