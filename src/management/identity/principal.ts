import type { RoleName } from '../../db/directory.js';

/** The authenticated caller of a management request. */
export interface Principal {
  clientId: string;
  /** Shown as the caller in the activity log. */
  displayName: string;
  role: RoleName;
}
