import { describe, it, expect } from 'vitest';
import { authenticate } from '../../../src/storage/auth/authenticate.js';
import { ACCOUNT, READ_BLOB, accountKeys, errorText, noPolicies, refusal, storageRequest } from './fixtures.js';

const request = (headers: Record<string, string>, url = `/${ACCOUNT}/data/a.txt`) =>
  storageRequest({ method: 'GET', url, headers: { host: '127.0.0.1', ...headers } });

describe('authenticate', () => {
  it('lets a request without credentials through as anonymous, for the caller to check public access', async () => {
    expect(await authenticate(request({}), accountKeys(), READ_BLOB, noPolicies)).toEqual({ kind: 'anonymous' });
  });

  it('stays anonymous on an account that disallows key-based access', async () => {
    expect(await authenticate(request({}), accountKeys(false), READ_BLOB, noPolicies)).toEqual({ kind: 'anonymous' });
  });

  it('refuses another scheme, naming the schemes it supports and not echoing the credential (tokens go to BearerAuth)', async () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl';
    const error = await refusal(() => authenticate(request({ authorization: `Negotiate ${token}` }), accountKeys(), READ_BLOB, noPolicies));
    expect(error.status).toBe(403);
    expect(error.code).toBe('AuthenticationFailed');
    expect(error.details.AuthenticationErrorDetail).toContain('only Shared Key, Shared Key Lite, Bearer (over HTTPS) and SAS are supported');
    expect(error.details.AuthenticationErrorDetail).toContain("'Negotiate'");
    expect(errorText(error)).not.toContain(token);
  });

  it('does not echo an Authorization header that has no scheme', async () => {
    const secret = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
    const error = await refusal(() => authenticate(request({ authorization: secret }), accountKeys(), READ_BLOB, noPolicies));
    expect(error.code).toBe('AuthenticationFailed');
    expect(errorText(error)).not.toContain(secret);
  });

  it('prefers the Authorization header over a SAS in the query', async () => {
    const error = await refusal(() =>
      authenticate(request({ authorization: 'Bearer x' }, `/${ACCOUNT}/data/a.txt?sv=2020-12-06&sig=abc`), accountKeys(), READ_BLOB, noPolicies),
    );
    expect(error.details.AuthenticationErrorDetail).toContain('only Shared Key');
  });

  it('refuses a Shared Key header on an account that disallows key-based access before checking it', async () => {
    const error = await refusal(() =>
      authenticate(request({ authorization: `SharedKey ${ACCOUNT}:bm90LWNoZWNrZWQ=` }), accountKeys(false), READ_BLOB, noPolicies),
    );
    expect(error.code).toBe('KeyBasedAuthenticationNotPermitted');
  });
});
