import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  ShareServiceClient,
  StorageSharedKeyCredential,
  type StoragePipelineOptions,
  generateAccountSASQueryParameters,
} from '@azure/storage-file-share';
import { expect } from 'vitest';
import { DEV_ACCOUNT, DEV_KEY, fileConnectionString, type TestServer } from './server.js';

/** Stops a test server and deletes its data directory (some tests leave hundreds of MiB there). */
export async function stopAndClean(server: TestServer | undefined): Promise<void> {
  if (!server) return;
  await server.stop();
  fs.rmSync(server.dataDir, { recursive: true, force: true });
}

export function shareService(server: TestServer, account = DEV_ACCOUNT, key = DEV_KEY, options?: StoragePipelineOptions): ShareServiceClient {
  return ShareServiceClient.fromConnectionString(fileConnectionString(server, account, key), options);
}

/** A share name no other test uses. */
export function uniqueShare(prefix = 'share'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Awaits a call that must fail, and checks the Azure status and error code it failed with. */
export async function expectStorageError(call: Promise<unknown>, status: number, code: string): Promise<Error & { message: string }> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught as { statusCode?: number; code?: string; details?: { errorCode?: string }; message: string },
  );
  expect(error, `expected ${status} ${code}, but the call succeeded`).toBeDefined();
  expect({ status: error!.statusCode, code: error!.details?.errorCode ?? error!.code }).toEqual({ status, code });
  return error as Error & { message: string };
}

/** An account SAS for the File service (or the services given), valid for an hour, for raw requests the SDK would refuse to send. */
export function fileAccountSas(account = DEV_ACCOUNT, key = DEV_KEY, permissions = 'rwdlc', services = 'f'): string {
  return generateAccountSASQueryParameters(
    {
      expiresOn: new Date(Date.now() + 3600_000),
      permissions: AccountSASPermissions.parse(permissions),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
      services: AccountSASServices.parse(services).toString(),
    },
    new StorageSharedKeyCredential(account, key),
  ).toString();
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A request exactly as given: the path is not normalised or re-encoded, unlike
 * the SDK's. Like a careful client, it stops sending the body once an answer
 * arrives, since the server may answer an error before reading the body and
 * then close the connection.
 */
export function rawRequest(base: string, path: string, options: { method?: string; headers?: Record<string, string | number>; body?: Buffer } = {}): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      { host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: { 'x-ms-version': '2025-11-05', ...options.headers } },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const body = options.body ?? Buffer.alloc(0);
    const send = async (): Promise<void> => {
      for (let offset = 0; offset < body.length && !answered; offset += 64 * 1024) {
        if (!req.write(body.subarray(offset, offset + 64 * 1024))) await new Promise((drained) => req.once('drain', drained).once('close', drained));
      }
      if (!answered) req.end();
    };
    send().catch(reject);
  });
}
