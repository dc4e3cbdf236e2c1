import { describe, expect, test } from 'vitest';
import { datastoreServiceUrl } from '../../../src/sdk/storage-url.js';

describe('datastore service URLs', () => {
  test("Azure's DNS suffix puts the account in the host", () => {
    expect(datastoreServiceUrl('AzureBlob', 'acct', 'core.windows.net', 'https')).toBe('https://acct.blob.core.windows.net');
    expect(datastoreServiceUrl('AzureFile', 'acct', 'core.chinacloudapi.cn', 'wasbs')).toBe('https://acct.file.core.chinacloudapi.cn');
  });

  test('a host:port, an IP address or localhost is path-style, as this server and Azurite are', () => {
    expect(datastoreServiceUrl('AzureBlob', 'acct', '127.0.0.1:10000', 'http')).toBe('http://127.0.0.1:10000/acct');
    expect(datastoreServiceUrl('AzureFile', 'acct', 'mlspace.internal:10003', 'https')).toBe('https://mlspace.internal:10003/acct');
    expect(datastoreServiceUrl('AzureBlob', 'acct', '[::1]:10000', 'wasb')).toBe('http://[::1]:10000/acct');
    expect(datastoreServiceUrl('AzureBlob', 'acct', 'localhost', 'http')).toBe('http://localhost/acct');
  });
});
