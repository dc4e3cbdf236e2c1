import { api, ApiError, STORAGE_API } from '../api';

export type Service = 'blob' | 'file';

/** The service version the browser sends, as a current SDK does. */
const VERSION = '2023-11-03';
/** How long the browser's account SAS lives; a fresh one is asked for before it runs out. */
const SAS_LIFETIME_MS = 60 * 60 * 1000;

/** The code and message of an Azure XML error body (`<Error><Code/><Message/></Error>`). */
function storageError(status: number, text: string, fallbackCode: string | null): ApiError {
  const xml = text ? new DOMParser().parseFromString(text, 'application/xml') : undefined;
  const code = xml?.querySelector('Error > Code')?.textContent ?? fallbackCode ?? String(status);
  const message = xml?.querySelector('Error > Message')?.textContent?.split('\n')[0] ?? `The storage service answered ${status} ${code}.`;
  return new ApiError(status, code, message);
}

export interface Call {
  method?: string;
  /** Container or share, then the path inside it; '' for the service itself. */
  path: string;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  body?: BodyInit;
}

/**
 * One account's Blob and File services, called from the browser as the
 * Azure portal's storage browser calls them: straight to the data plane over
 * HTTPS (the server allows this page's origin), with an account SAS from the
 * ARM listAccountSas action. The SAS lives an hour and is signed with key1; if
 * key1 is regenerated meanwhile, the next call asks for a new one.
 */
export class DataPlane {
  private sas?: { token: Promise<string>; renewAt: number };

  constructor(
    readonly accountId: string,
    readonly account: string,
    private readonly ports: { blob: number; file: number },
  ) {}

  /** `https://{this host}:{port}/{account}/{path}`, each path segment encoded. */
  url(service: Service, path: string, query: Record<string, string | undefined> = {}, sas?: string): string {
    const encoded = path.split('/').map(encodeURIComponent).join('/');
    const search = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const tail = [search.toString(), sas].filter(Boolean).join('&');
    return `https://${location.hostname}:${this.ports[service]}/${this.account}${encoded ? `/${encoded}` : ''}${tail ? `?${tail}` : ''}`;
  }

  private token(): Promise<string> {
    if (!this.sas || Date.now() >= this.sas.renewAt) {
      const expiry = new Date(Date.now() + SAS_LIFETIME_MS).toISOString().replace(/\.\d+Z$/, 'Z');
      const token = api<{ accountSasToken: string }>('POST', `${this.accountId}/ListAccountSas?${STORAGE_API}`, {
        signedServices: 'bf',
        signedResourceTypes: 'sco',
        signedPermission: 'rwdlacup',
        signedExpiry: expiry,
        signedProtocol: 'https',
      }).then((answer) => answer.accountSasToken);
      this.sas = { token, renewAt: Date.now() + SAS_LIFETIME_MS - 5 * 60_000 };
      token.catch(() => (this.sas = undefined));
    }
    return this.sas.token;
  }

  /** Calls the service and answers the response, or throws the service's error with its code and message. */
  async call(service: Service, call: Call, retried = false): Promise<Response> {
    const url = this.url(service, call.path, call.query, await this.token());
    const response = await fetch(url, { method: call.method ?? 'GET', headers: { 'x-ms-version': VERSION, ...call.headers }, body: call.body, credentials: 'omit' });
    if (response.ok) return response;
    const error = storageError(response.status, call.method === 'HEAD' ? '' : await response.text(), response.headers.get('x-ms-error-code'));
    // A SAS signed with a key regenerated since: ask for a new one, once.
    if (error.code === 'AuthenticationFailed' && !retried) {
      this.sas = undefined;
      return this.call(service, call, true);
    }
    throw error;
  }

  /** Calls the service and parses its XML answer. */
  async xml(service: Service, call: Call): Promise<Document> {
    const response = await this.call(service, call);
    return new DOMParser().parseFromString(await response.text(), 'application/xml');
  }

  /**
   * Sends one chunk of an upload with XMLHttpRequest, which, unlike fetch,
   * reports how much of the body has gone out.
   */
  async send(service: Service, call: Call & { body: Blob }, onProgress: (sent: number) => void): Promise<void> {
    const url = this.url(service, call.path, call.query, await this.token());
    await new Promise<void>((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open(call.method ?? 'PUT', url);
      request.setRequestHeader('x-ms-version', VERSION);
      for (const [name, value] of Object.entries(call.headers ?? {})) request.setRequestHeader(name, value);
      request.upload.onprogress = (event) => onProgress(event.loaded);
      request.onload = () => (request.status < 300 ? resolve() : reject(storageError(request.status, request.responseText, request.getResponseHeader('x-ms-error-code'))));
      request.onerror = () => reject(new ApiError(0, 'NetworkError', `The upload to ${new URL(url).host} failed before the service answered; check that the server is running.`));
      request.send(call.body);
    });
  }

  /**
   * A service SAS for one blob, file, container or share, from the ARM
   * listServiceSas action: what "Generate SAS" shows, and what a download
   * follows (with a Content-Disposition that saves it under its name).
   */
  async serviceSas(service: Service, root: string, path: string, permissions: string, expiry: Date, contentDisposition?: string): Promise<string> {
    const answer = await api<{ serviceSasToken: string }>('POST', `${this.accountId}/ListServiceSas?${STORAGE_API}`, {
      canonicalizedResource: `/${service}/${this.account}/${root}${path ? `/${path}` : ''}`,
      signedResource: service === 'blob' ? (path ? 'b' : 'c') : path ? 'f' : 's',
      signedPermission: permissions,
      signedExpiry: expiry.toISOString().replace(/\.\d+Z$/, 'Z'),
      signedProtocol: 'https',
      ...(contentDisposition ? { rscd: contentDisposition } : {}),
    });
    return this.url(service, path ? `${root}/${path}` : root, {}, answer.serviceSasToken);
  }
}
