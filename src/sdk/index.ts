/**
 * The mlspace SDK: the documented azureml Python API (Workspace, Datastore,
 * Model) in TypeScript, on the official Azure clients, so the same code runs
 * against the local server or Azure.
 */
export { Workspace, type WorkspaceGetOptions, type WorkspaceKeys } from './workspace.js';
export {
  Datastore,
  type RegisterBlobContainerOptions,
  type RegisterFileShareOptions,
  type UploadFilesOptions,
  type DownloadOptions,
} from './datastore.js';
export type { DatastoreRegistration } from './datastore-registration.js';
export type { DatastoreType, TransferOptions, TransferProgress, TransferResult } from './datastore-types.js';
export { Model, type RegisterModelOptions, type ModelDownloadResult } from './model.js';
export { type ConnectionOptions } from './connection.js';
export { MlspaceError, type MlspaceErrorCode } from './errors.js';
export { CredentialRefusedError, type CredentialHolder, type RefusalVerdict } from './credential-refusal.js';
export { findWorkspaceConfig, readWorkspaceConfig, type WorkspaceConfig } from './workspace-config.js';
export {
  StorageAccountKeys,
  rotateAccountKeys,
  waitForRotation,
  type KeyConsumer,
  type KeyConsumers,
  type RotateOptions,
  type RotationStatus,
  type AccountRotationOutcome,
} from './key-rotation.js';
export { activityLog, type ActivityEvent, type ActivityLogQuery } from './activity-log.js';
export { ArmRequestError } from './arm-actions.js';
