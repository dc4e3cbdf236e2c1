import type { RoleName } from '../../db/directory.js';

/** The authenticated caller of a management request. */
export interface Principal {
  clientId: string;
  role: RoleName;
}
