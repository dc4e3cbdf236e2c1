// The mlspace benchmark: starts mlspace, Azurite and a bare node:http server as
// child processes, runs the registered scenarios against them one at a time,
// prints markdown tables (stdout) and writes bench/results/latest.json.
//
//   node bench/run.mjs [--strict] [--quick] [--only id,id] [--profile] [--no-pin]
//     --strict   exit 1 when a target fails (by default a FAIL is printed, exit 0)
//     --quick    short runs, a 32 MiB transfer and a tenth of the rotation scale, to check the bench itself works
//     --only     run only these scenario ids
//     --profile  write a V8 CPU profile of mlspace to bench/results/profiles/
//     --no-pin   leave the request-loop scenarios unpinned: client and servers share every core (cores.mjs)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pinCores } from './lib/cores.mjs';
import { describeTarget, evaluateTargets, markdown } from './lib/report.mjs';
import { scenarios } from './lib/scenarios/index.mjs';
import { SERVER_LABELS, startServers, stopServers } from './lib/servers.mjs';

const MiB = 1024 * 1024;
// rotationScale: the accounts' consumers in the rotation scenario (scaleBench's options in rotation.mjs).
const SETTINGS = {
  full: { warmupSeconds: 2, seconds: 10, transferBytes: 256 * MiB, rotationScale: { workspaces: 100, datastores: 10_000, containers: 100 } },
  quick: { warmupSeconds: 1, seconds: 2, transferBytes: 32 * MiB, rotationScale: { workspaces: 10, datastores: 1_000, containers: 10 } },
};
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

const { values: args } = parseArgs({
  options: { strict: { type: 'boolean' }, quick: { type: 'boolean' }, only: { type: 'string' }, profile: { type: 'boolean' }, 'no-pin': { type: 'boolean' } },
});
const settings = args.quick ? SETTINGS.quick : SETTINGS.full;
const selected = selectScenarios(args.only);
const log = (message) => process.stderr.write(`${message}\n`);

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-bench-'));
// Children are killed by the exit hook of servers.mjs, registered before this one.
process.on('exit', () => fs.rmSync(workDir, { recursive: true, force: true }));
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

const profileDir = args.profile ? path.join(RESULTS_DIR, 'profiles') : undefined;
const started = new Date();
// Server and load generator already share the cores; anything else running skews every figure.
const loadAverage = os.loadavg()[0];
if (loadAverage > os.cpus().length / 2) log(`WARNING: load average ${loadAverage.toFixed(1)} before the start: the machine is busy, figures will be low and noisy.`);
const needed = Object.keys(SERVER_LABELS).filter((name) => selected.some((s) => s.servers.includes(name)));
if (needed.length > 0) log(`Starting ${needed.join(', ')} (data under ${workDir})`);
const servers = await startServers(needed, workDir, { profileDir });
const results = [];
try {
  for (const scenario of selected) {
    log(`\n${scenario.title}`);
    const own = Object.fromEntries(scenario.servers.map((name) => [name, servers[name]]));
    const cores = scenario.pinned && !args['no-pin'] ? pinCores(Object.values(own)) : undefined;
    if (cores && !cores.pinned) log('  (not pinned: this machine has one core or no taskset; client and server share the cores)');
    let rows;
    try {
      rows = await scenario.run(own, settings, (message) => log(`  ${message}`));
    } finally {
      cores?.release();
    }
    results.push({ id: scenario.id, title: scenario.title, pinned: cores?.pinned ?? false, rows, targets: evaluateTargets(scenario, rows) });
  }
} finally {
  await stopServers(servers);
}

const failed = results.flatMap((r) => r.targets).filter((t) => t.pass === false);
fs.mkdirSync(RESULTS_DIR, { recursive: true });
fs.writeFileSync(
  path.join(RESULTS_DIR, 'latest.json'),
  JSON.stringify({ started, seconds: (Date.now() - started) / 1000, settings, environment: environment(servers), results, pass: failed.length === 0 }, null, 2) + '\n',
);

process.stdout.write(`\n${markdown(results)}\n\n`);
log(failed.length === 0 ? 'All targets PASS.' : `FAIL: ${failed.length} target(s) missed: ${failed.map(describeTarget).join('; ')}`);
if (profileDir) log(`mlspace CPU profile written to ${profileDir}`);
log(`Results written to ${path.relative(process.cwd(), path.join(RESULTS_DIR, 'latest.json'))}`);
if (args.strict && failed.length > 0) process.exitCode = 1;

function selectScenarios(only) {
  if (!only) return scenarios;
  const ids = only.split(',');
  const unknown = ids.filter((id) => !scenarios.some((s) => s.id === id));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.id).join(', ')}`);
  return scenarios.filter((s) => ids.includes(s.id));
}

function environment(servers) {
  let commit;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    commit = undefined; // not a git checkout
  }
  return {
    commit,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverageAtStart: loadAverage,
    versions: Object.fromEntries(Object.values(servers).map((s) => [s.name, s.version])),
    azurite: 'blob service, disk persistence (--location under a temp dir), --loose --skipApiVersionCheck --silent',
    loadGenerator: 'autocannon programmatic API, @azure/storage-blob and @azure/storage-file-share, all in the bench process; each server in its own child process',
  };
}
