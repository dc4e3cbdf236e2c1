import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ensureTlsMaterial } from '../../src/management/tls/local-ca.js';

describe('local CA', () => {
  test('issues a server certificate for the loopback names and the host, reuses the CA, and reissues when the host changes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-ca-'));
    const first = await ensureTlsMaterial(dir, 'mlspace.example');
    const ca = new X509Certificate(fs.readFileSync(first.caFile));
    const server = new X509Certificate(first.certChain.slice(0, first.certChain.indexOf('-----END CERTIFICATE-----') + 25));
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(ca.ca).toBe(true);
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkIP('::1')).toBeTruthy();
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkHost('mlspace.example')).toBe('mlspace.example');
    for (const key of ['ca.key', 'server.key']) expect(fs.statSync(path.join(dir, 'tls', key)).mode & 0o777).toBe(0o600);

    const again = await ensureTlsMaterial(dir, 'mlspace.example');
    expect(again.certChain).toBe(first.certChain);

    const moved = await ensureTlsMaterial(dir, '10.1.2.3');
    const reissued = new X509Certificate(moved.certChain.slice(0, moved.certChain.indexOf('-----END CERTIFICATE-----') + 25));
    expect(fs.readFileSync(moved.caFile, 'utf8')).toBe(fs.readFileSync(first.caFile, 'utf8'));
    expect(reissued.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(reissued.verify(ca.publicKey)).toBe(true);
  });
});
