// Load generators. Both run in this process: with 2 cores, one is the server's
// and one the client's, and the bench process does nothing else meanwhile.
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/**
 * GET `url` over `connections` keep-alive connections with autocannon's
 * programmatic API (in-process, no workers), after an unmeasured warm-up.
 * Any error or non-2xx answer fails the run: a fast 403 is not a result.
 */
async function autocannonGet(url, { connections, seconds, warmupSeconds }) {
  await autocannon({ url, connections, duration: warmupSeconds });
  const result = await autocannon({ url, connections, duration: seconds });
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0) throw new Error(`${failed} of ${result.requests.total} GETs of ${new URL(url).origin} failed (errors, timeouts or non-2xx)`);
  return { perSecond: result.requests.average, p99Ms: result.latency.p99 };
}

/**
 * Runs `op(loop)` in `concurrency` parallel async loops for `seconds`, after
 * an unmeasured warm-up, and returns completed operations per second.
 */
export async function loopRate(op, { concurrency, seconds, warmupSeconds }) {
  await loops(op, concurrency, warmupSeconds);
  return loops(op, concurrency, seconds);
}

async function loops(op, concurrency, seconds) {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      while (performance.now() < deadline) {
        await op(loop);
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

/** Seconds `fn` takes. */
async function timed(fn) {
  const start = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - start) / 1000, value };
}

/** autocannon only counts status codes, so check once that `url` really returns `body`. */
async function expectBody(url, body) {
  const response = await fetch(url);
  const received = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200 || !received.equals(body)) throw new Error(`GET ${url} answered ${response.status} without the expected ${body.length} bytes`);
}

function median(values) {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/**
 * The SAS GET scenarios' measurement, for blobs and files alike: per server, fetch
 * the SAS URL once and check its bytes, then 32 connections of autocannon.
 */
export async function measureSasGets(servers, settings, log, { sasUrl, body, label }) {
  const values = {};
  const p99Ms = {};
  for (const server of Object.values(servers)) {
    const url = await sasUrl(server);
    await expectBody(url, body);
    log(`${server.name}: ${settings.seconds} s of GETs after ${settings.warmupSeconds} s warm-up`);
    const result = await autocannonGet(url, { connections: 32, seconds: settings.seconds, warmupSeconds: settings.warmupSeconds });
    values[server.name] = result.perSecond;
    p99Ms[server.name] = result.p99Ms;
  }
  return [
    { id: 'get', label: `${label}, 32 connections`, unit: 'req/s', values },
    { id: 'get-p99', label: `${label}, p99 latency`, unit: 'ms', values: p99Ms },
  ];
}

// One transfer lasts a second or two, so a burst of other activity would decide
// a single sample: report the median of a few.
const TRANSFER_ROUNDS = 3;

/**
 * The transfer scenarios' measurement, for blobs and files alike: per server,
 * upload then download `settings.transferBytes` of random bytes (so no server
 * profits from compressible content) through `target(server, bytes)`, median of
 * a few rounds, checking what comes back.
 */
export async function measureTransfers(servers, settings, log, { target, label }) {
  const data = randomBytes(settings.transferBytes);
  const size = `${settings.transferBytes / (1024 * 1024)} MiB`;
  const upload = {};
  const download = {};
  for (const server of Object.values(servers)) {
    const { upload: send, download: fetch } = await target(server, data);
    log(`${server.name}: upload and download ${size}, median of ${TRANSFER_ROUNDS}`);
    const up = [];
    const down = [];
    for (let round = 0; round < TRANSFER_ROUNDS; round++) {
      up.push((await timed(send)).seconds);
      const { seconds, value } = await timed(fetch);
      const intact = server.stores ? value.equals(data) : value.length === data.length;
      if (!intact) throw new Error(`${server.name} returned different bytes than were uploaded`);
      down.push(seconds);
    }
    upload[server.name] = data.length / 1e6 / median(up);
    download[server.name] = data.length / 1e6 / median(down);
  }
  return [
    { id: 'upload', label: `${size} ${label} upload`, unit: 'MB/s', values: upload },
    { id: 'download', label: `${size} ${label} download`, unit: 'MB/s', values: download },
  ];
}
