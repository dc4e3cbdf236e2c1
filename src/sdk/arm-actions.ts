import fs from 'node:fs';
import https from 'node:https';
import type { TokenCredential } from '@azure/identity';

/** The scope every ARM client asks a token for; the local server's token endpoint issues it too. */
const ARM_SCOPE = 'https://management.azure.com/.default';

/** An ARM error answer, shaped like the official clients' RestError (statusCode, code, message) so callers handle both alike. */
export class ArmRequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ArmRequestError';
  }
}

export interface ArmResponse<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

/**
 * JSON requests to the ARM operations the official clients do not wrap
 * (mlspace's consumer discovery and key rotation, the activity log), with the
 * same credential, endpoint and CA as those clients.
 */
export class ArmActions {
  private readonly agent: https.Agent;

  constructor(
    private readonly credential: TokenCredential,
    readonly endpoint: string,
    caFile?: string,
  ) {
    this.agent = new https.Agent({ keepAlive: true, ...(caFile ? { ca: fs.readFileSync(caFile) } : {}) });
  }

  /** `target` is a path (`/subscriptions/...`) or an absolute URL the service handed out (an operation status). */
  async request<T>(method: string, target: string, options: { body?: unknown; apiVersion?: string } = {}): Promise<ArmResponse<T>> {
    const url = new URL(target, this.endpoint);
    if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', options.apiVersion ?? '2023-05-01');
    const token = await this.credential.getToken(ARM_SCOPE);
    if (!token) throw new ArmRequestError(401, 'InvalidAuthenticationToken', 'No access token could be obtained for the management endpoint.');
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const response = await this.send(method, url, { authorization: `Bearer ${token.token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, payload);
    const body = response.text ? (JSON.parse(response.text) as unknown) : undefined;
    if (response.status >= 400) {
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ArmRequestError(response.status, error?.code ?? 'UnexpectedStatus', error?.message ?? `The management endpoint answered ${response.status}.`);
    }
    return { status: response.status, headers: response.headers, body: body as T };
  }

  private send(method: string, url: URL, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: ArmResponse<unknown>['headers']; text: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method, headers, agent: this.agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}
