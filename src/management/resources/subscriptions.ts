import type { ManagementDeps } from '../deps.js';
import type { ArmRoute } from '../http/route.js';

const READ = 'Microsoft.Resources/subscriptions/read';

/** The server is one subscription in one tenant. */
function subscriptionJson(deps: ManagementDeps) {
  return {
    id: `/subscriptions/${deps.subscriptionId}`,
    subscriptionId: deps.subscriptionId,
    tenantId: deps.tenantId,
    displayName: 'mlspace',
    state: 'Enabled',
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'mlspace', spendingLimit: 'Off' },
    authorizationSource: 'RoleBased',
  };
}

export function subscriptionRoutes(deps: ManagementDeps): ArmRoute[] {
  return [
    { method: 'GET', pattern: '/subscriptions', action: READ, handler: () => ({ status: 200, body: { value: [subscriptionJson(deps)] } }) },
    // The listener has already refused any other subscription id with 404 SubscriptionNotFound.
    { method: 'GET', pattern: '/subscriptions/{subscriptionId}', action: READ, handler: () => ({ status: 200, body: subscriptionJson(deps) }) },
  ];
}
