// 1 KiB GET with a bearer token (Azure AD on the data plane), beside the same GET
// through a SAS URL over HTTPS and over plain HTTP, all on one server in one run:
// what keyless access costs per request once the token is verified and cached.
import fs from 'node:fs';
import https from 'node:https';
import { ClientSecretCredential } from '@azure/identity';
import { BlobSASPermissions, generateBlobSASQueryParameters } from '@azure/storage-blob';
import { benchContainer, devCredential, DEV_ACCOUNT } from '../azure.mjs';
import { autocannonGet } from '../load.mjs';
import { SMALL_BODY } from '../payload.mjs';

const CONTAINER = 'bench-bearer';
const BLOB = 'small-1k';
const VERSION = '2025-11-05';

export default {
  id: 'blob-bearer-get',
  title: '1 KiB blob GET with a bearer token vs a SAS (autocannon, 32 connections, one server)',
  servers: ['mlspace'],
  targets: [
    { row: 'bearer', vsRow: 'sas-https', of: 'mlspace', atLeast: 0.7 },
    { row: 'sas-https', vsRow: 'sas-http', of: 'mlspace' },
  ],

  async run(servers, settings, log) {
    const server = servers.mlspace;
    const endpoints = server.endpoints;
    const ca = fs.readFileSync(endpoints.caFile);
    const blob = (await benchContainer(server, CONTAINER)).getBlockBlobClient(BLOB);
    await blob.upload(SMALL_BODY, SMALL_BODY.length);
    const path = `/${DEV_ACCOUNT.name}/${CONTAINER}/${BLOB}`;
    const sas = generateBlobSASQueryParameters(
      { containerName: CONTAINER, blobName: BLOB, permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3_600_000) },
      devCredential,
    ).toString();
    const token = await readerToken(endpoints, ca);
    const headers = { authorization: `Bearer ${token}`, 'x-ms-version': VERSION };
    await expectBody(`${endpoints.blobHttps}${path}`, headers, ca);

    const options = { connections: 32, seconds: settings.seconds, warmupSeconds: settings.warmupSeconds, tlsOptions: { ca } };
    const rates = {};
    for (const [id, url, extra] of [
      ['sas-http', `${endpoints.blob}${path}?${sas}`, {}],
      ['sas-https', `${endpoints.blobHttps}${path}?${sas}`, {}],
      ['bearer', `${endpoints.blobHttps}${path}`, { headers }],
    ]) {
      log(`${id}: ${settings.seconds} s of GETs after ${settings.warmupSeconds} s warm-up`);
      rates[id] = (await autocannonGet(url, { ...options, ...extra })).perSecond;
    }
    return [
      { id: 'sas-http', label: '1 KiB blob GET via SAS, HTTP, 32 connections', unit: 'req/s', values: { mlspace: rates['sas-http'] } },
      { id: 'sas-https', label: '1 KiB blob GET via SAS, HTTPS, 32 connections', unit: 'req/s', values: { mlspace: rates['sas-https'] } },
      { id: 'bearer', label: '1 KiB blob GET with a bearer token, HTTPS, 32 connections', unit: 'req/s', values: { mlspace: rates.bearer } },
    ];
  },
};

/** A token for a new principal holding Storage Blob Data Reader on the subscription, from the server's token endpoint. */
async function readerToken(endpoints, ca) {
  const admin = JSON.parse(fs.readFileSync(endpoints.adminClientFile, 'utf8'));
  const agent = new https.Agent({ ca });
  const trust = { additionalPolicies: [{ position: 'perCall', policy: { name: 'benchCa', sendRequest: (request, next) => next(Object.assign(request, { agent })) } }] };
  const credential = (secret) => new ClientSecretCredential(secret.tenantId, secret.clientId, secret.clientSecret, { authorityHost: endpoints.authority, disableInstanceDiscovery: true, ...trust });
  const adminToken = (await credential(admin).getToken('https://management.azure.com/.default')).token;
  const response = await fetchJson(`${endpoints.arm}/providers/Mlspace.Identity/servicePrincipals?api-version=2022-04-01`, adminToken, { role: 'Storage Blob Data Reader' }, ca);
  return (await credential(response).getToken('https://storage.azure.com/.default')).token;
}

function fetchJson(url, token, body, ca) {
  return new Promise((resolve, reject) => {
    const request = https.request(url, { method: 'POST', ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(text)) : reject(new Error(`creating the bench principal answered ${res.statusCode}: ${text}`))));
    });
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

/** autocannon only counts status codes: check once that the token really reads the blob. */
function expectBody(url, headers, ca) {
  return new Promise((resolve, reject) => {
    https.get(url, { headers, ca }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => (res.statusCode === 200 && Buffer.concat(chunks).equals(SMALL_BODY) ? resolve() : reject(new Error(`bearer GET answered ${res.statusCode}`))));
    }).on('error', reject);
  });
}
