/**
 * Azure's built-in role definitions, with their real ids and permissions.
 * Actions are `Provider/type/operation` strings matched without regard to case,
 * `*` matching any run of characters. Management operations are checked against
 * `actions`; data-plane operations on blobs and files against `dataActions`,
 * so Owner (actions `*`) reads no blob with a token until it is given a data role,
 * as in Azure.
 */
export interface RoleDefinition {
  /** The role definition's GUID, the same in every Azure tenant. */
  id: string;
  roleName: string;
  description: string;
  actions: readonly string[];
  notActions: readonly string[];
  dataActions: readonly string[];
  notDataActions: readonly string[];
}

const STORAGE = 'Microsoft.Storage/storageAccounts';
const CONTAINERS = `${STORAGE}/blobServices/containers`;
const FILE_SERVICE = `${STORAGE}/fileServices`;
const FILES = `${FILE_SERVICE}/fileshares/files`;

const role = (id: string, roleName: string, description: string, permissions: Partial<Omit<RoleDefinition, 'id' | 'roleName' | 'description'>>): RoleDefinition => ({
  id,
  roleName,
  description,
  actions: permissions.actions ?? [],
  notActions: permissions.notActions ?? [],
  dataActions: permissions.dataActions ?? [],
  notDataActions: permissions.notDataActions ?? [],
});

export const OWNER_ROLE_ID = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';

export const BUILT_IN_ROLES: readonly RoleDefinition[] = [
  role(OWNER_ROLE_ID, 'Owner', 'Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.', {
    actions: ['*'],
  }),
  role(
    'b24988ac-6180-42a0-ab88-20f7382dd24c',
    'Contributor',
    'Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.',
    {
      actions: ['*'],
      notActions: [
        'Microsoft.Authorization/*/Delete',
        'Microsoft.Authorization/*/Write',
        'Microsoft.Authorization/elevateAccess/Action',
        'Microsoft.Blueprint/blueprintAssignments/write',
        'Microsoft.Blueprint/blueprintAssignments/delete',
        'Microsoft.Compute/galleries/share/action',
        'Microsoft.Purview/consents/write',
        'Microsoft.Purview/consents/delete',
        'Microsoft.Resources/deploymentStacks/manageDenySetting/action',
        'Microsoft.Subscription/cancel/action',
        'Microsoft.Subscription/enable/action',
      ],
    },
  ),
  role('acdd72a7-3385-48ef-bd42-f606fba81ae7', 'Reader', 'View all resources, but does not allow you to make any changes.', { actions: ['*/read'] }),
  role('18d7d88d-d35e-4fb5-a5c3-7773c20a72d9', 'User Access Administrator', 'Lets you manage user access to Azure resources.', {
    actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'],
  }),
  role(
    '81a9662b-bebf-436f-a333-f67b29880f12',
    'Storage Account Key Operator Service Role',
    'Storage Account Key Operators are allowed to list and regenerate keys on Storage Accounts',
    // listConsumers (an mlspace extension) shows which key each consumer holds: whoever may list the keys may see it.
    { actions: [`${STORAGE}/listkeys/action`, `${STORAGE}/regeneratekey/action`, `${STORAGE}/listConsumers/action`] },
  ),
  role(
    'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
    'Storage Blob Data Owner',
    'Allows for full access to Azure Storage blob containers and data, including assigning POSIX access control.',
    { actions: [`${CONTAINERS}/*`, `${STORAGE}/blobServices/generateUserDelegationKey/action`], dataActions: [`${CONTAINERS}/blobs/*`] },
  ),
  role('ba92f5b4-2d11-453d-a403-e96b0029c9fe', 'Storage Blob Data Contributor', 'Allows for read, write and delete access to Azure Storage blob containers and data', {
    actions: [`${CONTAINERS}/delete`, `${CONTAINERS}/read`, `${CONTAINERS}/write`, `${STORAGE}/blobServices/generateUserDelegationKey/action`],
    dataActions: [`${CONTAINERS}/blobs/delete`, `${CONTAINERS}/blobs/read`, `${CONTAINERS}/blobs/write`, `${CONTAINERS}/blobs/move/action`, `${CONTAINERS}/blobs/add/action`],
  }),
  role('2a2b9908-6ea1-4ae2-8e65-a410df84e7d1', 'Storage Blob Data Reader', 'Allows for read access to Azure Storage blob containers and data', {
    actions: [`${CONTAINERS}/read`, `${STORAGE}/blobServices/generateUserDelegationKey/action`],
    dataActions: [`${CONTAINERS}/blobs/read`],
  }),
  role(
    'db58b8e5-c6ad-4a2a-8342-4190687cbf4a',
    'Storage Blob Delegator',
    'Allows for generation of a user delegation key which can be used to sign SAS tokens',
    { actions: [`${STORAGE}/blobServices/generateUserDelegationKey/action`] },
  ),
  role(
    '69566ab7-960f-475b-8e7c-b3118f30c6bd',
    'Storage File Data Privileged Contributor',
    'Customer has read, write, delete and modify NTFS permission access on Azure Storage file shares.',
    {
      dataActions: [
        `${FILES}/read`,
        `${FILES}/write`,
        `${FILES}/delete`,
        `${FILES}/modifypermissions/action`,
        `${FILE_SERVICE}/readFileBackupSemantics/action`,
        `${FILE_SERVICE}/writeFileBackupSemantics/action`,
      ],
    },
  ),
  role(
    'b8eda974-7b85-4f76-af95-65846b26df6d',
    'Storage File Data Privileged Reader',
    'Customer has read access on Azure Storage file shares.',
    { dataActions: [`${FILES}/read`, `${FILE_SERVICE}/readFileBackupSemantics/action`] },
  ),
];

const byId = new Map(BUILT_IN_ROLES.map((definition) => [definition.id, definition]));

/** A built-in role by name (case-insensitive, 'Storage Account Key Operator' for short) or by GUID, or by its full ARM id. */
export function findRole(nameOrId: string): RoleDefinition | undefined {
  const wanted = nameOrId.trim().toLowerCase();
  const id = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(wanted)?.[1];
  if (id !== undefined) return byId.get(id);
  if (wanted === 'storage account key operator') return byId.get('81a9662b-bebf-436f-a333-f67b29880f12');
  return BUILT_IN_ROLES.find((definition) => definition.roleName.toLowerCase() === wanted);
}

export function roleById(id: string): RoleDefinition | undefined {
  return byId.get(id.toLowerCase());
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

/** Whether the role grants `action`: a management action, or (`data`) a data action. */
export function roleAllows(definition: RoleDefinition, action: string, data = false): boolean {
  const [allowed, denied] = data ? [definition.dataActions, definition.notDataActions] : [definition.actions, definition.notActions];
  return allowed.some((pattern) => matches(pattern, action)) && !denied.some((pattern) => matches(pattern, action));
}
