import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../identity/principal.js';

/** One management request, routed and (unless the route is public) authenticated. */
export interface ArmRequest {
  req: IncomingMessage;
  res: ServerResponse;
  requestId: string;
  path: string;
  query: URLSearchParams;
  /** The route's `{placeholders}`, decoded. */
  params: Record<string, string>;
  /** The caller; undefined only on public routes (token endpoint, OIDC metadata). */
  principal?: Principal;
  /**
   * What the handler adds to its activity log event (routes with `activity`); never
   * a secret. `ownEvents`: the handler records its success itself (a started
   * rotation's events come from the engine); only a failure is recorded for it.
   */
  activity?: { properties?: Record<string, unknown>; ownEvents?: boolean };
}

export interface ArmResult {
  status: number;
  /** Serialized as JSON; absent for bodiless answers (204, HEAD). */
  body?: unknown;
  headers?: Record<string, string>;
}
