import fc from 'fast-check';
import type { RawRequest } from './raw-http.js';

/** Names the fuzzer aims at: a few that exist, a few it may create, and many the service must refuse. */
export const EXISTING_CONTAINER = 'fuzz';
export const EXISTING_BLOB = 'seed/blob.bin';
export const EXISTING_DIRECTORY = 'seed';
export const EXISTING_FILE = 'seed/file.bin';

const account = fc.oneof(
  { weight: 12, arbitrary: fc.constant('devstoreaccount1') },
  { weight: 1, arbitrary: fc.constantFrom('nosuchaccount', 'UPPER', 'a', 'devstoreaccount1%00', '%E0%A4%A', '..', 'x'.repeat(300)) },
);

const containerName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(EXISTING_CONTAINER, 'fuzz-new', 'fuzz-2') },
  { weight: 2, arbitrary: fc.constantFrom('ab', 'UPPER', 'a'.repeat(64), 'dash--dash', '-lead', 'under_score', '%2e%2e', '.', '$root', '$logs') },
  { weight: 1, arbitrary: fc.string({ maxLength: 70 }).map(encodeURIComponent) },
);

/** Path segments: plain names, dot segments, encodings, invalid UTF-8 (written as raw bytes) and the very long. */
const pathSegment = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('seed', 'blob.bin', 'file.bin', 'new', 'dir', 'a b', 'x') },
  { weight: 2, arbitrary: fc.constantFrom('..', '.', '%2e%2e', '%2F', '%00', '%', '%zz', '%E0%A4%A', '%FF%FE', '\xff\xfe', 'ü', '%C3%BC', '\\', ':', '*', '|') },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(256), 'y'.repeat(1100)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20, unit: 'binary' }).map(encodeURIComponent) },
);
const resourcePath = fc.array(pathSegment, { minLength: 0, maxLength: 4 }).map((segments) => segments.join('/'));

const restype = fc.constantFrom('', '', 'container', 'service', 'share', 'directory', 'account', 'bogus');
const comp = fc.constantFrom(
  '', '', 'list', 'acl', 'metadata', 'properties', 'blocklist', 'block', 'range', 'rangelist', 'stats', 'snapshot', 'lease', 'tags',
  'batch', 'copy', 'appendblock', 'page', 'pagelist', 'query', 'incrementalcopy', 'undelete', 'rename', 'seal', 'expiry', 'filepermission', 'listhandles', 'bogus', 'LIST',
);
const queryValue = fc.oneof(
  fc.constantFrom('', '0', '-1', '5000', '99999999999999999999', 'abc', 'MA==', 'YmxvY2sx', '%ZZ', 'x'.repeat(2000), 'snapshots,metadata', 'copy,bogus', 'tags,snapshots', 'versions,deleted,uncommittedblobs', '2026-01-01T00:00:00.0000000Z', 'cDo1MTI', 'bjpbIngiLCIxIl0'),
  fc.constantFrom(`%22a%22%20%3D%20'b'`, `%22a%22%20OR`, `%40container%20%3D%20'fuzz'`),
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
);
const extraQuery = fc.array(
  fc.tuple(fc.constantFrom('blockid', 'maxresults', 'marker', 'prefix', 'delimiter', 'include', 'timeout', 'snapshot', 'versionid', 'prevsnapshot', 'blocklisttype', 'sharesnapshot', 'where', 'bogus'), queryValue),
  { maxLength: 3 },
);

const date = fc.oneof(
  fc.constantFrom('', 'yesterday', 'Mon, 32 Foo 2020 99:99:99 GMT', '0', '-1', 'Thu, 01 Jan 1970 00:00:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT', '2024-01-01T00:00:00Z'),
  fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
);
const range = fc.oneof(
  fc.constantFrom('bytes=0-', 'bytes=0--1', 'bytes=-5', 'bytes=5-1', 'bytes=0-0', 'bytes=abc', 'bytes=0-1,2-3', 'items=0-1', 'bytes=99999999999999999999-', 'bytes='),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `bytes=${a}-${b}`),
);
const etag = fc.constantFrom('*', '"0x8D0000000000000"', 'W/"x"', 'garbage', '', '"', '*, "a"');
const metadataName = fc.oneof(fc.constantFrom('ok', 'Run_1', '1bad', 'has-dash', 'x'.repeat(300), 'ünï'), fc.string({ maxLength: 12 }));
const headerValue = fc.oneof(
  fc.constantFrom('', ' ', 'true', 'false', '0', '-1', '4194304', '99999999999999999999', 'BlockBlob', 'PageBlob', 'AppendBlob', 'x'.repeat(9000)),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, '')),
);

const header: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(fc.constantFrom('range', 'x-ms-range', 'x-ms-source-range'), range),
  fc.tuple(fc.constantFrom('if-match', 'if-none-match', 'x-ms-source-if-match'), etag),
  fc.tuple(fc.constantFrom('if-modified-since', 'if-unmodified-since', 'x-ms-date', 'date'), date),
  fc.tuple(metadataName.map((name) => `x-ms-meta-${name}`), headerValue),
  fc.tuple(
    fc.constantFrom(
      'x-ms-blob-type', 'x-ms-version', 'content-md5', 'x-ms-blob-content-md5', 'x-ms-content-crc64', 'x-ms-copy-source', 'x-ms-blob-public-access',
      'x-ms-share-quota', 'x-ms-content-length', 'x-ms-blob-content-length', 'x-ms-write', 'x-ms-type', 'content-type', 'x-ms-file-attributes',
      'x-ms-file-creation-time', 'x-ms-file-permission', 'x-ms-file-permission-key', 'x-ms-lease-id', 'x-ms-lease-action', 'x-ms-access-tier',
      'x-ms-range-get-content-md5', 'x-ms-delete-snapshots', 'x-ms-blob-cache-control', 'x-ms-blob-content-type', 'x-ms-tags', 'x-ms-if-tags',
      'x-ms-blob-sequence-number', 'x-ms-client-request-id', 'transfer-encoding', 'expect', 'x-ms-rehydrate-priority', 'x-ms-delete-snapshots',
      'x-ms-lease-duration', 'x-ms-lease-break-period', 'x-ms-proposed-lease-id', 'x-ms-if-tags', 'x-ms-page-write', 'x-ms-sequence-number-action',
      'x-ms-if-sequence-number-le', 'x-ms-if-sequence-number-lt', 'x-ms-if-sequence-number-eq', 'x-ms-deleted-container-name', 'x-ms-deleted-container-version',
      'x-ms-source-container-name', 'origin', 'access-control-request-method',
    ),
    headerValue,
  ),
  // Header bytes no client sends: control characters and non-ASCII in a value, odd names.
  fc.tuple(fc.constantFrom('x-ms-meta-bin', 'x-ms-version', 'If-Match'), fc.constantFrom('\x01', '\x7f', 'ÿÿ', 'a\tb')),
  fc.tuple(fc.constantFrom('bad header', 'x-ms-meta-', ':', 'x(ms)'), fc.constant('v')),
  fc.tuple(fc.constant('content-type'), fc.constantFrom('multipart/mixed; boundary=batch_f', 'multipart/mixed', 'multipart/mixed; boundary=')),
  fc.tuple(fc.constant('x-ms-if-tags'), fc.constantFrom(`"a" = 'b'`, `("a" = 'b' OR "c" <> 'd')`, `"a" =`, `'a' = "b"`, `(((`, `"a" = 'b' AND`)),
  fc.tuple(fc.constant('x-ms-lease-action'), fc.constantFrom('acquire', 'renew', 'change', 'release', 'break', 'grab')),
  fc.tuple(fc.constant('x-ms-page-write'), fc.constantFrom('update', 'clear', 'Update', '')),
  fc.tuple(fc.constantFrom('x-ms-blob-content-length', 'x-ms-blob-sequence-number'), fc.constantFrom('512', '1000', '0', '8796093022208', '8796093022720', '-512', '9007199254740993')),
  fc.tuple(fc.constant('x-ms-sequence-number-action'), fc.constantFrom('max', 'update', 'increment', 'bogus')),
);

/** XML bodies shaped like the documents the service takes, and hostile ones: DOCTYPEs, depth, huge attributes, junk. */
export const xmlBody: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('SELECT * FROM BlobStorage', "SELECT a, _2 FROM BlobStorage WHERE a = 'x' OR NOT (b > 3)", 'SELECT COUNT(*) FROM BlobStorage LIMIT 1', 'SELECT', "SELECT * FROM BlobStorage WHERE 'a", 'SELECT _0 FROM BlobStorage'),
      fc.constantFrom('delimited', 'json', 'parquet', 'bogus', ''),
      fc.constantFrom(',', ';;', '', '\n'),
    )
    .map(
      ([expression, type, separator]) =>
        `<QueryRequest><QueryType>SQL</QueryType><Expression>${escape(expression)}</Expression><InputSerialization><Format><Type>${type}</Type><DelimitedTextConfiguration><ColumnSeparator>${separator}</ColumnSeparator><HasHeaders>true</HasHeaders></DelimitedTextConfiguration></Format></InputSerialization></QueryRequest>`,
    ),
  fc
    .array(fc.tuple(fc.constantFrom('Latest', 'Committed', 'Uncommitted', 'Bogus'), fc.constantFrom('YmxvY2sx', 'MA==', '', '!!', 'x'.repeat(100))), { maxLength: 5 })
    .map((blocks) => `<?xml version="1.0" encoding="utf-8"?><BlockList>${blocks.map(([kind, id]) => `<${kind}>${id}</${kind}>`).join('')}</BlockList>`),
  fc
    .array(fc.tuple(fc.string({ maxLength: 70 }), fc.constantFrom('r', 'rwdl', 'zz', ''), date), { maxLength: 7 })
    .map(
      (ids) =>
        `<SignedIdentifiers>${ids.map(([id, permission, start]) => `<SignedIdentifier><Id>${escape(id)}</Id><AccessPolicy><Start>${escape(start)}</Start><Permission>${permission}</Permission></AccessPolicy></SignedIdentifier>`).join('')}</SignedIdentifiers>`,
    ),
  fc
    .tuple(fc.constantFrom('true', 'false', 'maybe', ''), fc.constantFrom('1.0', '2.0', ''), fc.integer({ min: -5, max: 400 }))
    .map(
      ([enabled, version, days]) =>
        `<StorageServiceProperties><Logging><Version>${version}</Version><Delete>${enabled}</Delete><Read>${enabled}</Read><Write>${enabled}</Write><RetentionPolicy><Enabled>${enabled}</Enabled><Days>${days}</Days></RetentionPolicy></Logging><HourMetrics><Enabled>${enabled}</Enabled></HourMetrics><Cors><CorsRule><AllowedOrigins>*</AllowedOrigins><AllowedMethods>GET,BOGUS</AllowedMethods><MaxAgeInSeconds>${days}</MaxAgeInSeconds></CorsRule></Cors></StorageServiceProperties>`,
    ),
  fc
    .array(fc.tuple(fc.string({ maxLength: 140 }), fc.string({ maxLength: 300 })), { maxLength: 12 })
    .map((tags) => `<Tags><TagSet>${tags.map(([key, value]) => `<Tag><Key>${escape(key)}</Key><Value>${escape(value)}</Value></Tag>`).join('')}</TagSet></Tags>`),
  fc
    .array(fc.tuple(fc.constantFrom('DELETE', 'PUT', 'GET', 'BOGUS'), fc.constantFrom('/devstoreaccount1/fuzz/seed/blob.bin', '/devstoreaccount1/fuzz/x?comp=tier', '/other/x', 'nonsense'), fc.constantFrom('', 'x-ms-access-tier: Cool', 'Content-Length: 5')), { maxLength: 4 })
    .map(
      (parts) =>
        parts.map(([method, path, extra], i) => `--batch_f\r\nContent-Type: application/http\r\nContent-ID: ${i}\r\n\r\n${method} ${path} HTTP/1.1\r\n${extra}\r\n\r\n`).join('') + '--batch_f--\r\n',
    ),
  fc.constantFrom(
    '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><BlockList><Latest>&x;</Latest></BlockList>',
    '<!DOCTYPE a [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><SignedIdentifiers>&b;</SignedIdentifiers>',
    `<BlockList>${'<a>'.repeat(20_000)}${'</a>'.repeat(20_000)}</BlockList>`,
    `<BlockList><Latest x="${'y'.repeat(500_000)}">MA==</Latest></BlockList>`,
    '<BlockList><Latest>MA==</Latest>',
    '<BlockList><Latest><![CDATA[MA==]]></Latest></BlockList>',
    '<?xml version="1.0" encoding="utf-16"?><BlockList/>',
    '<SignedIdentifiers><SignedIdentifier/><SignedIdentifier><Id/></SignedIdentifier></SignedIdentifiers>',
    '<StorageServiceProperties><Cors><CorsRule/><CorsRule><AllowedOrigins/></CorsRule></Cors></StorageServiceProperties>',
    '<StorageServiceProperties><DefaultServiceVersion>bogus</DefaultServiceVersion><DeleteRetentionPolicy><Enabled>true</Enabled></DeleteRetentionPolicy></StorageServiceProperties>',
    '\u0000\u0001<a/>',
    'not xml at all',
  ),
  fc.string({ maxLength: 200 }),
);

function escape(text: string): string {
  return text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

const body = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: xmlBody.map((text) => Buffer.from(text)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 70_000 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
);

/** How the request is (or is not) authorized: a valid SAS, a mangled one, a hostile Authorization header, or nothing. */
export type Authorization =
  | { kind: 'sas' }
  | { kind: 'mangled-sas'; param: string; value: string }
  | { kind: 'header'; value: string }
  | { kind: 'none' };

const authorization: fc.Arbitrary<Authorization> = fc.oneof(
  { weight: 10, arbitrary: fc.constant({ kind: 'sas' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('mangled-sas' as const),
      param: fc.constantFrom('sig', 'se', 'st', 'sp', 'sv', 'ss', 'srt', 'spr', 'sip', 'sr', 'si', 'skoid', 'rscd', 'bogus'),
      value: fc.oneof(
        fc.constantFrom('', '%21%21', '%2A', 'r', 'rwdlacup', 'https', 'http,https', '1.2.3.4-1.2.3.5', '2015-04-05', '9999-12-31T00:00:00Z', 'x'.repeat(500), 'b', 'bf', 'c', '%00'),
        fc.string({ maxLength: 50 }).map(encodeURIComponent),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('header' as const),
      value: fc.oneof(
        fc.constantFrom(
          'SharedKey devstoreaccount1:',
          'SharedKey devstoreaccount1:AAAA',
          'SharedKey devstoreaccount1:' + 'A'.repeat(43) + '=',
          'SharedKey devstoreaccount1:' + 'A'.repeat(43) + '=!!',
          'SharedKey :sig',
          'SharedKey other:' + 'A'.repeat(43) + '=',
          'SharedKeyLite devstoreaccount1:' + 'A'.repeat(43) + '=',
          'Bearer eyJhbGciOiJub25lIn0.eyJhdWQiOiJodHRwczovL3N0b3JhZ2UuYXp1cmUuY29tLyJ9.',
          'Bearer ',
          'Basic Zm9vOmJhcg==',
          'SharedKey',
          '',
        ),
        fc.string({ maxLength: 80 }).map((s) => s.replace(/[\r\n]/g, '')),
      ),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
);

export interface DataPlaneRequest {
  service: 'blob' | 'file';
  method: string;
  account: string;
  container: string;
  path: string;
  query: [string, string][];
  headers: [string, string][];
  body?: Buffer;
  /** Declared Content-Length minus the body's length (0: honest). */
  lengthLie: number;
  authorization: Authorization;
}

export const dataPlaneRequest: fc.Arbitrary<DataPlaneRequest> = fc.record({
  service: fc.constantFrom('blob' as const, 'file' as const),
  method: fc.oneof({ weight: 10, arbitrary: fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'POST') }, { weight: 1, arbitrary: fc.constantFrom('OPTIONS', 'PATCH', 'MERGE', 'TRACE', 'FOO') }),
  account,
  container: fc.oneof({ weight: 1, arbitrary: fc.constant('') }, { weight: 6, arbitrary: containerName }),
  path: resourcePath,
  query: fc.tuple(restype, comp, extraQuery).map(([r, c, extra]) => [...(r ? [['restype', r] as [string, string]] : []), ...(c ? [['comp', c] as [string, string]] : []), ...extra]),
  headers: fc.array(header, { maxLength: 6 }),
  body,
  lengthLie: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-3, 5, 1000) }),
  authorization,
});

/** The request as written on the wire, with `sas` (a valid account SAS, `k=v&...`) applied as its authorization says. */
export function toRaw(request: DataPlaneRequest, sas: string): RawRequest {
  const query = [...request.query.map(([k, v]) => `${k}=${v}`)];
  const auth = request.authorization;
  const headers = [...request.headers];
  if (auth.kind === 'sas') query.push(sas);
  if (auth.kind === 'mangled-sas') {
    const params = sas.split('&').filter((pair) => !pair.startsWith(`${auth.param}=`));
    const original = sas.split('&').find((pair) => pair.startsWith(`${auth.param}=`))?.slice(auth.param.length + 1) ?? '';
    // Half the time the value is appended to what was signed, half the time it replaces it.
    params.push(`${auth.param}=${auth.value.startsWith('%') ? original + auth.value : auth.value}`);
    query.push(params.join('&'));
  }
  if (auth.kind === 'header') headers.push(['Authorization', auth.value]);
  let resource = `/${request.account}/`;
  if (request.container !== '') resource += request.path === '' ? request.container : `${request.container}/${request.path}`;
  const target = query.length ? `${resource}?${query.join('&')}` : resource;
  const body = request.body;
  const declaredLength = request.lengthLie === 0 || body === undefined ? undefined : Math.max(0, body.length + request.lengthLie);
  return { method: request.method, target, headers, body, declaredLength };
}
