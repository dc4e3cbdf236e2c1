/**
 * What the signed-in role may do, so the console shows no button that would
 * only fail. The server still decides every request; this mirrors its
 * built-in roles (src/management/identity/roles.ts) for display alone.
 */
export const mayReadKeys = (role: string) => role !== 'Reader';
export const mayRotate = (role: string) => role === 'Owner' || role === 'Contributor';
export const maySyncWorkspaces = mayRotate;
/** The storage browser works with an account SAS (listAccountSas), which Owner and Contributor may ask for. */
export const mayBrowseStorage = mayRotate;
/** Cancelling a job is a write of the workspace's jobs. */
export const mayCancelJobs = mayRotate;
