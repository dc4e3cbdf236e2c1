import { StorageError } from '../http/errors.js';

export const blobErrors = {
  containerNotFound: (name: string) => new StorageError(404, 'ContainerNotFound', `The specified container '${name}' does not exist. Create it first.`),
  containerExists: (name: string) => new StorageError(409, 'ContainerAlreadyExists', `The specified container '${name}' already exists.`),
  blobNotFound: (name: string) => new StorageError(404, 'BlobNotFound', `The specified blob '${name}' does not exist.`),
  notAppendBlob: () => new StorageError(409, 'InvalidBlobType', 'The blob type is invalid for this operation: this operation applies to append blobs only.'),
  onlyBlockBlobs: (type: string) => new StorageError(409, 'InvalidBlobType', `The blob type is invalid for this operation: it is a ${type === 'AppendBlob' ? 'n append blob, which takes Append Block' : ' page blob, which takes Put Page'}, not blocks or tiers.`),
  notPageBlob: () => new StorageError(409, 'InvalidBlobType', 'The blob type is invalid for this operation: this operation applies to page blobs only.'),
  sealed: () => new StorageError(409, 'BlobIsSealed', 'The blob is sealed and its content cannot be modified; write a new blob instead.'),
  publicAccessDenied: () =>
    new StorageError(404, 'ResourceNotFound', 'The specified resource does not exist. (Anonymous requests can read only containers whose public access level allows it; sign the request or use a SAS.)'),
};
