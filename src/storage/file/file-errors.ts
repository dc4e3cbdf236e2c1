import { StorageError } from '../http/errors.js';

export const fileErrors = {
  shareNotFound: (name: string) => new StorageError(404, 'ShareNotFound', `The specified share '${name}' does not exist. Create it first.`),
  shareExists: (name: string) => new StorageError(409, 'ShareAlreadyExists', `The specified share '${name}' already exists.`),
  parentNotFound: (path: string) =>
    new StorageError(404, 'ParentNotFound', `The parent directory of '${path}' does not exist. Create each directory of the path first, one level at a time.`),
  resourceNotFound: (path: string) => new StorageError(404, 'ResourceNotFound', `The specified resource '${path}' does not exist.`),
  resourceExists: (path: string) => new StorageError(409, 'ResourceAlreadyExists', `The specified resource '${path}' already exists.`),
  typeMismatch: (path: string, existing: 'file' | 'directory') =>
    new StorageError(
      409,
      'ResourceTypeMismatch',
      `The specified resource type does not match the type of the existing resource: '${path}' is a ${existing}. Use a ${existing} operation or another name.`,
    ),
  directoryNotEmpty: (path: string) =>
    new StorageError(409, 'DirectoryNotEmpty', `The specified directory '${path || '/'}' is not empty. Delete its files and subdirectories first.`),
  noAuthentication: () =>
    new StorageError(
      401,
      'NoAuthenticationInformation',
      'Server failed to authenticate the request: the File service has no anonymous access. Sign the request with Shared Key or append a SAS token.',
    ),
  leaseNotPresent: () =>
    new StorageError(412, 'LeaseNotPresentWithFileOperation', 'There is currently no lease on the file or share (this server does not grant leases); remove x-ms-lease-id from the request.'),
};
