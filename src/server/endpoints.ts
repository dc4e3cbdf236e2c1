import fs from 'node:fs';
import path from 'node:path';

export interface Endpoints {
  blob: string;
  file: string;
  /** The same services over TLS, with the management endpoint's certificate (trust caFile). */
  blobHttps: string;
  fileHttps: string;
  /** HTTPS base URL of the management (ARM) endpoint. */
  arm: string;
  /** Token authority host for @azure/identity's `authorityHost` (the same HTTPS endpoint). */
  authority: string;
  tenantId: string;
  subscriptionId: string;
  /** Absolute path of the local CA certificate (PEM) that management clients must trust. */
  caFile: string;
  /** Absolute path of the admin client's credentials, `{"tenantId","clientId","clientSecret"}`, mode 0600. */
  adminClientFile: string;
}

/** Where a server writes its endpoints unless told otherwise (`mlspace up --endpoints-file`). */
export function endpointsFileOf(dataDir: string): string {
  return path.join(dataDir, 'endpoints.json');
}

/** Written once the server accepts requests; replaced atomically so a reader never sees half a file. */
export function writeEndpoints(file: string, endpoints: Endpoints): string {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(endpoints, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(temp, file);
  return file;
}

/** Reads a running server's endpoints.json, saying how to start one when there is none. */
export function readEndpoints(dataDir: string): Endpoints {
  const file = endpointsFileOf(dataDir);
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: start the server first (mlspace up --data-dir ${dataDir}).`);
  const endpoints = JSON.parse(fs.readFileSync(file, 'utf8')) as Endpoints;
  if (!endpoints.arm) throw new Error(`${file} names no management endpoint (arm); restart the server with this version of mlspace.`);
  return endpoints;
}

export function removeEndpoints(file: string): void {
  fs.rmSync(file, { force: true });
}
