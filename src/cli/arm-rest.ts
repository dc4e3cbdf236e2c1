import https from 'node:https';
import { CliError } from './errors.js';
import { httpsText } from './https-text.js';

/** The management API version the CLI sends where it talks REST itself; the server accepts any. */
const API_VERSION = '2023-05-01';

/** A refusal from the management endpoint, shaped as the Azure SDKs' RestError so describeError reads both alike. */
export class ArmRequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Where tokens come from: the login's cache (see TokenSource). */
export interface BearerTokens {
  token(): Promise<string>;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
}

/**
 * The CLI's management client: JSON over HTTPS with a cached bearer token,
 * following nextLinks and long-running operations. The official ARM clients
 * would cost half a second to load on every command; management commands that
 * only move JSON use this instead, and keep the official clients for the SDK's
 * richer work (rotations, model uploads).
 */
export class ArmRest {
  private readonly agent: https.Agent;

  constructor(
    readonly endpoint: string,
    private readonly tokens: BearerTokens,
    ca?: Buffer,
  ) {
    this.agent = new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) });
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  /** Every item of a listing, across its pages. */
  async list<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = path;
    while (next) {
      const page: { value?: T[]; nextLink?: string } = await this.call('GET', next);
      items.push(...(page.value ?? []));
      next = page.nextLink;
    }
    return items;
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PUT', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PATCH', path, body);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  async delete(path: string): Promise<void> {
    await this.call('DELETE', path);
  }

  /** Sends one request; a 201 or 202 with an operation to follow is waited for, as `az` waits. */
  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = this.url(path);
    const answer = await this.send(method, url, body);
    if (answer.status >= 400) throw refusal(answer);
    const poll = header(answer, 'azure-asyncoperation') ?? header(answer, 'location');
    if ((answer.status === 201 || answer.status === 202) && poll) {
      await this.waitFor(poll, answer);
      // A PUT's resource as it is once the operation is done; deletes and actions leave nothing to read.
      return (method === 'PUT' ? await this.call<T>('GET', path) : undefined) as T;
    }
    return answer.json as T;
  }

  private async waitFor(pollUrl: string, first: Answer): Promise<void> {
    let answer = first;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, retryAfterMs(answer)));
      answer = await this.send('GET', new URL(pollUrl, this.endpoint));
      if (answer.status >= 400) throw refusal(answer);
      const status = (answer.json as { status?: string } | undefined)?.status;
      if (status === 'Failed' || status === 'Canceled') {
        const error = (answer.json as { error?: { code?: string; message?: string } }).error;
        throw new ArmRequestError(answer.status, error?.code, error?.message ?? `The operation ended ${status}.`);
      }
      if (answer.status !== 202 && (status === undefined || status === 'Succeeded')) return;
    }
  }

  private url(path: string): URL {
    const url = new URL(path, this.endpoint);
    if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', API_VERSION);
    return url;
  }

  private async send(method: string, url: URL, body?: unknown): Promise<Answer> {
    const token = await this.tokens.token();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const answer = await httpsText(url, { method, headers, agent: this.agent }, payload);
    try {
      return { status: answer.status, headers: answer.headers, json: answer.text ? JSON.parse(answer.text) : undefined };
    } catch {
      throw new CliError(`The server at ${this.endpoint} answered ${answer.status} with a body that is not JSON; is it an mlspace or Azure management endpoint?`);
    }
  }
}

/** A resource as the Azure SDKs model it, and az prints it: the wire's `properties` lifted to the top level. */
export function liftProperties<T extends { properties?: object }>(resource: T): Omit<T, 'properties'> & NonNullable<T['properties']> {
  const { properties, ...rest } = resource;
  return { ...rest, ...properties } as Omit<T, 'properties'> & NonNullable<T['properties']>;
}

function header(answer: Answer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function retryAfterMs(answer: Answer): number {
  const seconds = Number(header(answer, 'retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 10) * 1000 : 1000;
}

function refusal(answer: Answer): ArmRequestError {
  const error = (answer.json as { error?: { code?: string; message?: string } } | undefined)?.error;
  return new ArmRequestError(answer.status, error?.code, error?.message ?? `The server answered ${answer.status}.`);
}
