import { escapeXml } from './errors.js';

export function metadataXml(metadata: Record<string, string>): string {
  let xml = '<Metadata>';
  for (const key in metadata) xml += `<${key}>${escapeXml(metadata[key]!)}</${key}>`;
  return xml + '</Metadata>';
}
