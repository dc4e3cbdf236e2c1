/** The two keys of one storage account, as the key ring holds them, with the account settings the data plane applies. */
export interface AccountKeys {
  readonly account: string;
  /** The account's resource group: a bearer token's roles are matched against the account's ARM id. */
  readonly resourceGroup: string;
  /** key1 and key2, base64-decoded. Either authorizes. */
  readonly keys: readonly [Buffer, Buffer];
  /** Under which user delegation keys are derived (user-delegation.ts); it changes when the account's delegation keys are revoked. */
  readonly delegationRoot: Buffer;
  /** `allowSharedKeyAccess: false` refuses Shared Key and SAS alike. */
  readonly allowSharedKeyAccess: boolean;
  /** The account's `accessTier`: the tier of every blob not given one of its own. */
  readonly defaultAccessTier: 'Hot' | 'Cool' | 'Cold';
  /** `blobServices/default`: whether writes keep the version they replace, and how long deletes stay undeletable (none: deletes are final). */
  readonly versioning: boolean;
  readonly deleteRetentionDays?: number;
  /** How long deleted containers stay restorable (none: container deletes are final). */
  readonly containerDeleteRetentionDays?: number;
}

/**
 * What an operation needs from a SAS. `permissions` lists letters any one of
 * which suffices (e.g. 'cw': create or write). `resourceType` is the Account SAS
 * `srt` letter: s(ervice), c(ontainer/share), o(bject).
 * `scope` is the narrowest service-SAS `sr` that can grant it: an object-level
 * operation may be granted by a container/share SAS, a container-level one only
 * by a container/share SAS, and a service-level one by no service SAS at all.
 */
export interface OperationAccess {
  readonly permissions: string;
  readonly resourceType: 's' | 'c' | 'o';
  readonly scope: 'service' | 'container' | 'object';
  /** What a bearer token's principal needs, every one of them (see RbacNeed); none: any valid token (a batch, whose parts are checked each). */
  readonly rbac: readonly RbacNeed[];
}

/**
 * An Azure RBAC permission an operation needs from a token's roles: a
 * management `action` (containers and shares themselves) or a `dataAction`
 * (blobs and files), as Azure's "permissions for calling data operations" say.
 */
export interface RbacNeed {
  readonly action: string;
  readonly data: boolean;
}

/** A stored access policy (container ACL / share ACL signed identifier). */
export interface AccessPolicy {
  readonly start?: string;
  readonly expiry?: string;
  readonly permissions?: string;
}

/** Resolves a stored access policy (`si`) of a container or share; undefined when it does not exist. */
export type AccessPolicyLookup = (container: string, id: string) => AccessPolicy | undefined;

export type AuthOutcome =
  | { readonly kind: 'sharedKey'; readonly keyIndex: 0 | 1 }
  | { readonly kind: 'bearer'; readonly principalId: string; readonly tenantId: string }
  /** A user delegation SAS: signed with a key derived for `principalId`, whose roles allowed the request. */
  | { readonly kind: 'delegatedSas'; readonly principalId: string; readonly responseOverrides: SasResponseOverrides }
  | { readonly kind: 'sas'; readonly keyIndex: 0 | 1; readonly responseOverrides: SasResponseOverrides }
  | { readonly kind: 'anonymous' };

/** Response headers a SAS may override on reads (rscc, rscd, rsce, rscl, rsct). */
export interface SasResponseOverrides {
  readonly cacheControl?: string;
  readonly contentDisposition?: string;
  readonly contentEncoding?: string;
  readonly contentLanguage?: string;
  readonly contentType?: string;
}
