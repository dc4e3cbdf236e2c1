// Load generators. Both run in this process: with 2 cores, one is the server's
// and one the client's, and the bench process does nothing else meanwhile.
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/**
 * GET `url` over `connections` keep-alive connections with autocannon's
 * programmatic API (in-process, no workers), after an unmeasured warm-up;
 * `headers` go with every request, `tlsOptions` (a CA) with every https connection.
 * Any error or non-2xx answer fails the run: a fast 403 is not a result.
 */
export async function autocannonGet(url, { connections, seconds, warmupSeconds, headers, tlsOptions }) {
  await autocannon({ url, connections, duration: warmupSeconds, headers, tlsOptions });
  const result = await autocannon({ url, connections, duration: seconds, headers, tlsOptions });
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
  const { done, elapsed } = await loops(op, concurrency, seconds);
  return done / elapsed;
}

/**
 * loopRate for several servers at once (`ops`: server name → op): after each
 * one's warm-up, the measured seconds are cut into `rounds` rounds, and each
 * round runs every server in turn, the order rotating. Whatever else the host
 * runs meanwhile then weighs on every server alike, where one stretch each
 * gave it all to whichever ran at the time. Returns operations per second by server.
 */
export async function interleavedLoopRates(ops, { concurrency, seconds, warmupSeconds }, rounds = 5) {
  const names = Object.keys(ops);
  for (const name of names) await loops(ops[name], concurrency, warmupSeconds);
  const totals = Object.fromEntries(names.map((name) => [name, { done: 0, elapsed: 0 }]));
  for (let round = 0; round < rounds; round++) {
    for (let turn = 0; turn < names.length; turn++) {
      const name = names[(round + turn) % names.length];
      const { done, elapsed } = await loops(ops[name], concurrency, seconds / rounds);
      totals[name].done += done;
      totals[name].elapsed += elapsed;
    }
  }
  return Object.fromEntries(names.map((name) => [name, totals[name].done / totals[name].elapsed]));
}

/** Operations completed by `concurrency` loops of `op` in about `seconds`, and the seconds they took. */
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
  return { done, elapsed: (performance.now() - start) / 1000 };
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
// a single sample: report the median of a few, after one unmeasured round that
// lets every server and the client warm up as the other scenarios' warm-ups do.
const TRANSFER_ROUNDS = 5;

/**
 * The transfer scenarios' measurement, for blobs and files alike: upload then
 * download `settings.transferBytes` of random bytes (so no server profits from
 * compressible content) through `target(server, bytes)`, checking what comes
 * back, and report the median of a few rounds. Rounds go from server to server,
 * so a slow spell of the machine hits them all rather than one, and each
 * transfer starts with the disk flushed (`sync`, untimed): a server that does
 * not fsync leaves its writes dirty in the page cache, and their write-back
 * must not land in the next server's measurement.
 * Besides the rate, it reports how many bytes the server moves per second of
 * its own CPU time (all its threads): with the client on one of two cores, the
 * client can be what limits the rate, and then the CPU figure is what still
 * tells the servers apart.
 */
export async function measureTransfers(servers, settings, log, { target, label }) {
  const data = randomBytes(settings.transferBytes);
  const size = `${settings.transferBytes / (1024 * 1024)} MiB`;
  const runs = [];
  for (const server of Object.values(servers)) {
    const transfers = await target(server, data);
    const check = (received) => {
      const intact = server.stores ? received.equals(data) : received.length === data.length;
      if (!intact) throw new Error(`${server.name} returned different bytes than were uploaded`);
    };
    runs.push({ server, transfers, check, samples: { upload: [], download: [] } });
  }
  log(`${runs.map((r) => r.server.name).join(', ')} in turn: upload and download ${size}, a warm-up round, then the median of ${TRANSFER_ROUNDS}`);
  for (let round = -1; round < TRANSFER_ROUNDS; round++) {
    for (const { server, transfers, check, samples } of runs) {
      for (const direction of ['upload', 'download']) {
        execFileSync('sync');
        const cpuBefore = server.cpuMs();
        const { seconds, value } = await timed(transfers[direction]);
        const cpuMs = server.cpuMs() - cpuBefore;
        if (direction === 'download') check(value);
        if (round >= 0) samples[direction].push({ seconds, cpuMs });
      }
    }
  }
  const rate = { upload: {}, download: {} };
  const perCpu = { upload: {}, download: {} };
  for (const { server, samples } of runs) {
    for (const direction of ['upload', 'download']) {
      rate[direction][server.name] = data.length / 1e6 / median(samples[direction].map((s) => s.seconds));
      const cpuSeconds = median(samples[direction].map((s) => s.cpuMs)) / 1000;
      // Where /proc is missing (NaN), or the server used less than a clock tick, there is no figure.
      if (cpuSeconds > 0) perCpu[direction][server.name] = data.length / 1e6 / cpuSeconds;
    }
  }
  return ['upload', 'download'].flatMap((direction) => [
    { id: direction, label: `${size} ${label} ${direction}`, unit: 'MB/s', values: rate[direction] },
    { id: `${direction}-cpu`, label: `${size} ${label} ${direction}, per second of server CPU`, unit: 'MB/CPU s', values: perCpu[direction] },
  ]);
}
