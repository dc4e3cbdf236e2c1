import type { SignedIdentifier } from '../../db/records.js';
import { parseXml } from './body.js';
import { StorageError, errors, escapeXml } from './errors.js';

/** Azure allows at most five stored access policies per container or share. */
const MAX_IDENTIFIERS = 5;

/** Reads a Set Container ACL / Set Share ACL body: `<SignedIdentifiers>` with up to five policies. */
export function parseSignedIdentifiers(body: Buffer): SignedIdentifier[] {
  if (body.length === 0) return [];
  const doc = parseXml(body);
  if (!doc || typeof doc !== 'object' || !('SignedIdentifiers' in doc)) {
    throw errors.invalidXml('the root element must be <SignedIdentifiers>.');
  }
  const raw = doc.SignedIdentifiers?.SignedIdentifier ?? [];
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length > MAX_IDENTIFIERS) {
    throw new StorageError(400, 'InvalidXmlDocument', `A container or share can have at most ${MAX_IDENTIFIERS} signed identifiers (stored access policies).`);
  }
  return list.map((entry: any) => {
    const id = String(entry?.Id ?? '');
    if (id === '' || id.length > 64) {
      throw new StorageError(400, 'InvalidXmlDocument', 'Each <SignedIdentifier> needs an <Id> of 1-64 characters.');
    }
    const policy = entry.AccessPolicy ?? {};
    return {
      id,
      start: textOrUndefined(policy.Start),
      expiry: textOrUndefined(policy.Expiry),
      permissions: textOrUndefined(policy.Permission),
    };
  });
}

export function signedIdentifiersXml(identifiers: readonly SignedIdentifier[]): string {
  const body = identifiers
    .map(
      (identifier) =>
        `<SignedIdentifier><Id>${escapeXml(identifier.id)}</Id><AccessPolicy>` +
        optionalElement('Start', identifier.start) +
        optionalElement('Expiry', identifier.expiry) +
        optionalElement('Permission', identifier.permissions) +
        '</AccessPolicy></SignedIdentifier>',
    )
    .join('');
  return `<?xml version="1.0" encoding="utf-8"?><SignedIdentifiers>${body}</SignedIdentifiers>`;
}

function textOrUndefined(value: unknown): string | undefined {
  return value === undefined || value === '' ? undefined : String(value);
}

function optionalElement(name: string, value: string | undefined): string {
  return value === undefined ? '' : `<${name}>${escapeXml(value)}</${name}>`;
}
