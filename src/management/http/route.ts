import type { ArmRequest, ArmResult } from './context.js';

export type ArmHandler = (ctx: ArmRequest) => ArmResult | Promise<ArmResult>;

export interface ArmRoute {
  method: 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE' | 'HEAD';
  pattern: string;
  /**
   * The Azure RBAC action the caller's role must allow, e.g.
   * `Microsoft.Storage/storageAccounts/listKeys/action`. Absent on the public
   * identity routes, which are the only ones that take no bearer token.
   */
  action?: string;
  /**
   * The operation name under which each call is written to the activity log
   * (key and credential operations), e.g. `Microsoft.Storage/storageAccounts/listKeys/action`.
   */
  activity?: string;
  handler: ArmHandler;
}
