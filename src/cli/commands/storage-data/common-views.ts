/** The facts of a blob's or a file's content, as the SDKs of both spell them. */
export interface ContentFacts {
  contentType?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  contentDisposition?: string;
  cacheControl?: string;
  contentMD5?: Uint8Array;
}

/** The facts of the copy that made a blob or a file, as the SDKs of both spell them. */
export interface CopyFacts {
  copyId?: string;
  copyStatus?: string;
  copySource?: string;
  copyProgress?: string;
  copyCompletedOn?: Date;
  copyStatusDescription?: string;
}

/** Bytes (an MD5) as az prints them: base64, or null when there are none. */
export const base64 = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('base64') : null);

/** A blob's or a file's contentSettings, as az prints them. */
export function contentSettings(facts: ContentFacts) {
  return {
    cacheControl: facts.cacheControl ?? null,
    contentDisposition: facts.contentDisposition ?? null,
    contentEncoding: facts.contentEncoding ?? null,
    contentLanguage: facts.contentLanguage ?? null,
    contentMd5: base64(facts.contentMD5),
    contentType: facts.contentType ?? null,
  };
}
