/**
 * An error of the mlspace SDK. Its message says what went wrong and how to fix
 * it, and never carries a key, a SAS token or a client secret; `code` is stable
 * for programs to branch on.
 */
export class MlspaceError extends Error {
  constructor(
    message: string,
    readonly code: MlspaceErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MlspaceError';
  }
}

export type MlspaceErrorCode =
  /** No config.json was found, or it lacks a field. */
  | 'WorkspaceConfigNotFound'
  | 'InvalidWorkspaceConfig'
  /** The local server is not running, or its files cannot be read. */
  | 'LocalServerUnavailable'
  /** A datastore name is taken and `overwrite: true` was not given. */
  | 'DatastoreExists'
  /** Arguments that cannot work together (both a key and a SAS token, ...). */
  | 'InvalidArgument'
  | 'NotFound'
  | 'ModelVersionExists'
  /** A local file would be overwritten and `overwrite: true` was not given. */
  | 'FileExists'
  /** A remote file's name would place it outside the download's target directory. */
  | 'UnsafePath'
  /** A credential a workspace or datastore holds was refused because it is no longer valid (regenerated key, expired SAS). */
  | 'StaleCredential'
  /** A held credential was refused and could not be shown stale, or is current and was refused for another reason. */
  | 'CredentialRefused'
  /** A key rotation ended Failed: nothing was regenerated and every consumer was restored. */
  | 'RotationFailed';
