import { StorageError } from '../http/errors.js';

export const blobErrors = {
  containerNotFound: (name: string) => new StorageError(404, 'ContainerNotFound', `The specified container '${name}' does not exist. Create it first.`),
  containerExists: (name: string) => new StorageError(409, 'ContainerAlreadyExists', `The specified container '${name}' already exists.`),
  blobNotFound: (name: string) => new StorageError(404, 'BlobNotFound', `The specified blob '${name}' does not exist.`),
  publicAccessDenied: () =>
    new StorageError(404, 'ResourceNotFound', 'The specified resource does not exist. (Anonymous requests can read only containers whose public access level allows it; sign the request or use a SAS.)'),
};
