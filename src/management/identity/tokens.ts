import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { writePrivateFile } from '../../secrets/private-file.js';

/** The audience of management tokens: the ARM resource, as Azure names it. */
export const MANAGEMENT_AUDIENCE = 'https://management.azure.com/';
/** The audience of data-plane tokens, as Azure Storage names it (the scope https://storage.azure.com/.default). */
export const STORAGE_AUDIENCE = 'https://storage.azure.com';
/** The account-specific audiences Azure Storage also accepts, e.g. https://myaccount.blob.core.windows.net. */
const ACCOUNT_AUDIENCE = /^https:\/\/[a-z0-9]{3,24}\.(blob|file|queue|table|dfs)\.core\.windows\.net\/?$/;

/** Whether a token for `audience` is one the data plane accepts. */
export function isStorageAudience(audience: string): boolean {
  return audience.replace(/\/$/, '') === STORAGE_AUDIENCE || ACCOUNT_AUDIENCE.test(audience);
}
const LIFETIME_SECONDS = 3600;
const ALGORITHM = 'ES256';

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
}

export interface TokenClaims {
  clientId: string;
  /** When the token expires, in ms since the epoch. */
  expires: number;
}

/**
 * Issues and verifies the management plane's bearer tokens: ES256 JWTs signed
 * with a key kept in `DATA_DIR/identity/token-signing.key` (mode 0600, created on
 * first start), so tokens survive a restart.
 */
export class TokenService {
  private constructor(
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
    private readonly keyId: string,
    private readonly tenantId: string,
  ) {}

  static async open(dataDir: string, tenantId: string): Promise<TokenService> {
    const dir = path.join(dataDir, 'identity');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, 'token-signing.key');
    let privateKey: KeyObject;
    if (fs.existsSync(file)) {
      privateKey = createPrivateKey(fs.readFileSync(file, 'utf8'));
    } else {
      privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      writePrivateFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    }
    const publicKey = createPublicKey(privateKey);
    const keyId = await calculateJwkThumbprint(await exportJWK(publicKey));
    return new TokenService(privateKey, publicKey, keyId, tenantId);
  }

  /** The public half as a JWKS document, for the OIDC `jwks_uri`. */
  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: [{ ...(await exportJWK(this.publicKey)), kid: this.keyId, use: 'sig', alg: ALGORITHM }] };
  }

  /** `issuer` is the authority the client asked (it depends on the host name it used); `audience` the resource asked for. */
  async issue(clientId: string, issuer: string, audience = MANAGEMENT_AUDIENCE): Promise<IssuedToken> {
    const accessToken = await new SignJWT({ tid: this.tenantId, appid: clientId, azp: clientId, oid: clientId, idtyp: 'app', ver: '2.0' })
      .setProtectedHeader({ alg: ALGORITHM, kid: this.keyId, typ: 'JWT' })
      .setIssuer(issuer)
      .setSubject(clientId)
      .setAudience(audience)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(`${LIFETIME_SECONDS}s`)
      .sign(this.privateKey);
    return { accessToken, expiresIn: LIFETIME_SECONDS };
  }

  /**
   * The claims of a token this server signed for this tenant and the plane's
   * audience (management, or storage: any audience Azure Storage accepts),
   * still within its lifetime; throws with the reason otherwise. The issuer's
   * host is not compared: it is whichever name the client reached us by, and the
   * signature already proves the token is ours.
   */
  async verify(token: string, plane: 'management' | 'storage' = 'management'): Promise<TokenClaims> {
    const { payload } = await jwtVerify(token, this.publicKey, {
      algorithms: [ALGORITHM],
      clockTolerance: 5,
      ...(plane === 'management' && { audience: MANAGEMENT_AUDIENCE }),
    });
    if (plane === 'storage' && !(typeof payload.aud === 'string' && isStorageAudience(payload.aud))) {
      throw new Error(`the token's audience is not Azure Storage: request it for the scope ${STORAGE_AUDIENCE}/.default.`);
    }
    if (payload.tid !== this.tenantId || !payload.iss?.endsWith(`/${this.tenantId}/v2.0`)) throw new Error('the token was issued for another tenant.');
    if (typeof payload.sub !== 'string') throw new Error('the token names no client.');
    return { clientId: payload.sub, expires: (payload.exp ?? 0) * 1000 };
  }
}
