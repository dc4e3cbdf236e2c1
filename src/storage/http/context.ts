import type { IncomingMessage, ServerResponse } from 'node:http';

export type StorageService = 'blob' | 'file';

/** One data-plane request, parsed just enough to authorize and dispatch it. */
export interface StorageRequest {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  service: StorageService;
  /** `http` or `https`, as the client reached us (SAS `spr` is checked against it). */
  protocol: 'http' | 'https';
  account: string;
  /** Container (blob service) or share (file service), decoded; '' for service-level requests. */
  container: string;
  /** Blob name or file/directory path below the container, decoded; '' when absent. */
  path: string;
  /** The URL path exactly as sent (still percent-encoded), e.g. `/devstoreaccount1/c/a%20b`. */
  rawPath: string;
  query: URLSearchParams;
  /** Resolves once every metadata commit made so far is on disk; writes are acknowledged only then. */
  durable: () => Promise<void>;
}
