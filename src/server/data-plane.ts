import http from 'node:http';
import https from 'node:https';
import type { TlsMaterial } from '../management/tls/local-ca.js';
import { headerTimeouts } from '../storage/http/body-limits.js';
import type { StorageService } from '../storage/http/context.js';
import { hostStyle } from '../storage/http/request-url.js';
import { answerClientErrors } from './client-errors.js';

export type RequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * A Blob or File service port, plain or TLS. A whole upload may take up to an
 * hour (5000 MiB on a slow link), but headers must arrive within the idle time,
 * and a body that stalls that long is cut by the UploadGate.
 */
export function createDataPlaneServer(idleTimeoutMs: number, tls?: TlsMaterial): http.Server {
  const options = { keepAliveTimeout: 65_000, requestTimeout: 3_600_000, ...headerTimeouts(idleTimeoutMs) };
  const server = tls ? https.createServer({ ...options, cert: tls.certChain, key: tls.key }) : http.createServer(options);
  answerClientErrors(server, 'storage');
  return server;
}

/**
 * The listener for one service's port. A host-style request names its service
 * in the Host header, and goes to that service whichever port it reached: az
 * builds `https://{account}.{service}.{suffix}` from one storage suffix, so one
 * port must serve both. Any other request is for the port's own service.
 */
export function serviceOfPort(own: StorageService, listeners: Record<StorageService, RequestListener>): RequestListener {
  const other: StorageService = own === 'blob' ? 'file' : 'blob';
  return (req, res) => {
    listeners[hostStyle(req.headers.host)?.service === other ? other : own](req, res);
  };
}
