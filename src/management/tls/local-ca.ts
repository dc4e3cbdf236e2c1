import './reflect-metadata.js';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { writePrivateFile } from '../../secrets/private-file.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 60 * 60 * 1000;
const CA_LIFETIME = 10 * 365 * DAY;
/** Apple and the browsers refuse server certificates valid for longer than 825 days. */
const SERVER_LIFETIME = 825 * DAY;
/** A server certificate this close to expiry is replaced at start-up. */
const RENEW_BEFORE = 30 * DAY;

export interface TlsMaterial {
  /** Absolute path of the CA certificate (PEM) that clients must trust. */
  caFile: string;
  /** The server certificate followed by the CA, as node:https wants `cert`. */
  certChain: string;
  key: string;
}

/**
 * The HTTPS endpoints' local CA and server certificate (management, and the
 * Blob and File services' TLS ports), created in `DATA_DIR/tls` on first start
 * and reused afterwards, so a client that trusts the CA once keeps trusting the
 * server. The server certificate names 127.0.0.1, localhost, ::1, the
 * data plane's host-style names, the listening host and any names given; it is reissued by
 * the same CA when those names change or expiry nears. Private keys are written with mode 0600.
 */
export async function ensureTlsMaterial(dataDir: string, host: string, extraNames: string[] = []): Promise<TlsMaterial> {
  const dir = path.join(dataDir, 'tls');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = {
    caCert: path.join(dir, 'ca.pem'),
    caKey: path.join(dir, 'ca.key'),
    cert: path.join(dir, 'server.pem'),
    key: path.join(dir, 'server.key'),
  };
  const ca = (await loadPair(files.caCert, files.caKey)) ?? (await createCa(files.caCert, files.caKey));
  const names = subjectAltNames(host, extraNames);
  let server = await loadPair(files.cert, files.key);
  if (!server || !(await isUsable(server.cert, ca.cert, names))) server = await issueServerCert(ca, names, files.cert, files.key);
  return { caFile: files.caCert, certChain: server.cert.toString('pem') + '\n' + ca.cert.toString('pem') + '\n', key: server.keyPem };
}

interface Pair {
  cert: x509.X509Certificate;
  keyPem: string;
  privateKey: CryptoKey;
}

async function loadPair(certFile: string, keyFile: string): Promise<Pair | undefined> {
  if (!fs.existsSync(certFile) || !fs.existsSync(keyFile)) return undefined;
  const cert = new x509.X509Certificate(fs.readFileSync(certFile, 'utf8'));
  const keyPem = fs.readFileSync(keyFile, 'utf8');
  const privateKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyPem), ALGORITHM, false, ['sign']);
  return { cert, keyPem, privateKey };
}

async function createCa(certFile: string, keyFile: string): Promise<Pair> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=mlspace local CA ${new Date(now).toISOString().slice(0, 10)}`,
    keys,
    signingAlgorithm: ALGORITHM,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + CA_LIFETIME),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return save(cert, keys.privateKey, certFile, keyFile);
}

async function issueServerCert(ca: Pair, names: x509.JsonGeneralName[], certFile: string, keyFile: string): Promise<Pair> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    subject: 'CN=mlspace',
    issuer: ca.cert.subject,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: ALGORITHM,
    notBefore: new Date(now - DAY),
    notAfter: new Date(Math.min(now + SERVER_LIFETIME, ca.cert.notAfter.getTime())),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return save(cert, keys.privateKey, certFile, keyFile);
}

async function save(cert: x509.X509Certificate, privateKey: CryptoKey, certFile: string, keyFile: string): Promise<Pair> {
  const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', privateKey), 'PRIVATE KEY');
  // The key first: a certificate on disk without its key would be unusable on the next start.
  writePrivateFile(keyFile, keyPem + '\n');
  fs.writeFileSync(certFile, cert.toString('pem') + '\n', { mode: 0o600 });
  return { cert, keyPem, privateKey };
}

function subjectAltNames(host: string, extraNames: string[]): x509.JsonGeneralName[] {
  // The wildcards serve the data plane's host-style URLs, as Azurite spells them (https://{account}.blob.localhost:PORT)
  // and as az does with the suffix az-setup gives it (core.localhost, like Azure's core.windows.net).
  const hostStyle = ['blob', 'file'].flatMap((service) => [`*.${service}.localhost`, `*.${service}.core.localhost`]);
  const names = new Set(['127.0.0.1', 'localhost', '::1', ...hostStyle, ...extraNames]);
  // A wildcard address is not a name a client can connect to.
  if (host !== '0.0.0.0' && host !== '::' && host !== '') names.add(host.replace(/^\[|\]$/g, ''));
  return [...names].map((value) => ({ type: isIP(value) ? 'ip' : 'dns', value }));
}

async function isUsable(cert: x509.X509Certificate, ca: x509.X509Certificate, wanted: x509.JsonGeneralName[]): Promise<boolean> {
  if (cert.notAfter.getTime() - Date.now() < RENEW_BEFORE) return false;
  if (!(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }))) return false;
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const present = new Set(san?.names.toJSON().map((name) => `${name.type}:${name.value}`) ?? []);
  return wanted.every((name) => present.has(`${name.type}:${name.value}`));
}
