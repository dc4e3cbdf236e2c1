import fs from 'node:fs';
import https from 'node:https';
import { readEndpoints, type Endpoints } from '../server/endpoints.js';

/** The management API version the CLI sends; the server accepts any. */
const API_VERSION = '2023-05-01';

/**
 * The CLI's connection to a local server: endpoints.json and the admin client's
 * credentials from the data directory, a token from the token endpoint, and
 * requests over HTTPS trusting the server's CA.
 */
export class ManagementClient {
  private token?: string;

  private constructor(
    readonly endpoints: Endpoints,
    private readonly ca: Buffer,
    private readonly admin: { tenantId: string; clientId: string; clientSecret: string },
  ) {}

  static open(dataDir: string): ManagementClient {
    const endpoints = readEndpoints(dataDir);
    return new ManagementClient(endpoints, fs.readFileSync(endpoints.caFile), JSON.parse(fs.readFileSync(endpoints.adminClientFile, 'utf8')));
  }

  async request(method: string, resourcePath: string, body?: unknown): Promise<unknown> {
    this.token ??= await this.getToken();
    const url = new URL(resourcePath, this.endpoints.arm);
    url.searchParams.set('api-version', API_VERSION);
    const response = await this.send(method, url, { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' }, body === undefined ? undefined : JSON.stringify(body));
    if (response.status >= 400) {
      const error = (response.json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new Error(error ? `${error.code}: ${error.message}` : `the server answered ${response.status}.`);
    }
    return response.json;
  }

  private async getToken(): Promise<string> {
    const url = new URL(`/${this.admin.tenantId}/oauth2/v2.0/token`, this.endpoints.authority);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.admin.clientId,
      client_secret: this.admin.clientSecret,
      scope: 'https://management.azure.com/.default',
    });
    const response = await this.send('POST', url, { 'content-type': 'application/x-www-form-urlencoded' }, form.toString());
    const json = response.json as { access_token?: string; error_description?: string } | undefined;
    if (response.status !== 200 || !json?.access_token) {
      throw new Error(`could not get a token with the admin client: ${json?.error_description ?? `status ${response.status}`}`);
    }
    return json.access_token;
  }

  private send(method: string, url: URL, headers: Record<string, string>, body?: string): Promise<{ status: number; json: unknown }> {
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method, headers, ca: this.ca }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : undefined });
          } catch {
            reject(new Error(`the server answered ${res.statusCode} with a body that is not JSON.`));
          }
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}
