import type { IncomingMessage, ServerResponse } from 'node:http';

/** Unread request bodies up to this size are drained after an error answer; larger ones cut the connection. */
const DRAIN_LIMIT = 16 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 10_000;

export interface UploadLimits {
  /** A body that delivers no bytes for this long is abandoned: the connection is closed and nothing is stored. */
  idleTimeoutMs: number;
  /** Requests receiving a body at once, per server; beyond it, 503 ServerBusy. */
  maxConcurrent: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { idleTimeoutMs: 60_000, maxConcurrent: 512 };

interface WarnLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Whether a request says it carries a body (bodiless requests are neither counted nor watched). */
export function carriesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Closes the connection of a request whose body stops arriving for `idleMs`.
 * Every handler that reads a body removes what it wrote when the body fails,
 * so an abandoned upload leaves nothing behind and holds no file for long.
 * The socket's inactivity timer is the one Node resets on every chunk; it is
 * cleared once the body is complete, so slow handlers and keep-alive are
 * untouched.
 */
export function closeWhenIdle(req: IncomingMessage, idleMs: number, logger: WarnLogger): void {
  if (!carriesBody(req)) return;
  const onIdle = () => {
    logger.warn({ method: req.method, idleSeconds: idleMs / 1000 }, 'request body stalled; connection closed and nothing stored');
    req.socket.destroy();
  };
  req.setTimeout(idleMs, onIdle);
  req.once('end', () => {
    req.off('timeout', onIdle);
    req.socket.setTimeout(0);
  });
}

/**
 * Server options under which headers that do not arrive within the idle time
 * close the connection. Node checks its timers at an interval, so the interval
 * is kept well under the idle time.
 */
export function headerTimeouts(idleMs: number): { headersTimeout: number; connectionsCheckingInterval: number } {
  return { headersTimeout: idleMs, connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(idleMs / 4))) };
}

/**
 * Bounds the uploads one server receives at once: each holds a socket, a
 * content file and its buffers, so beyond the bound a client is told to back
 * off (503 ServerBusy, which the SDKs retry) instead of exhausting descriptors.
 */
export class UploadGate {
  private inFlight = 0;

  constructor(
    private readonly limits: UploadLimits,
    private readonly logger: WarnLogger,
  ) {}

  /** Admits a request (watching its body for stalls), or returns false when the server is at its bound. */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    if (!carriesBody(req)) return true;
    if (this.inFlight >= this.limits.maxConcurrent) return false;
    this.inFlight++;
    res.once('close', () => this.inFlight--);
    closeWhenIdle(req, this.limits.idleTimeoutMs, this.logger);
    return true;
  }
}

/**
 * Answers a request whose body the handler refused before reading it. Closing
 * at once would reset the connection while the client is still sending, and a
 * client whose connection is reset may never read the answer (it sees EPIPE or
 * ECONNRESET instead of the error). So a body of modest size is read and
 * dropped first, and the connection stays usable; a larger one, or one that
 * takes too long, is not worth it: answer and close.
 */
export function answerAfterUnreadBody(req: IncomingMessage, res: ServerResponse, answer: () => void): void {
  const declared = Number(req.headers['content-length'] ?? Infinity);
  if (req.complete || !(declared <= DRAIN_LIMIT)) {
    if (!req.complete) res.setHeader('connection', 'close');
    answer();
    return;
  }
  let answered = false;
  const once = () => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    if (!req.complete) res.setHeader('connection', 'close');
    if (!req.socket.destroyed) answer();
  };
  const timer = setTimeout(once, DRAIN_TIMEOUT_MS).unref();
  req.once('end', once);
  req.once('close', once);
  req.resume();
}
