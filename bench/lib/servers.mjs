// Starts and stops the servers under test, each in its own child process so the
// load generator (this process) and a server never share an event loop.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createBenchDatabase } from './postgres.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/** Labels for tables, in the order columns are printed. */
export const SERVER_LABELS = { mlspace: 'mlspace', 'mlspace-pg': 'mlspace on PostgreSQL', azurite: 'Azurite', bare: 'bare node:http (ceiling)' };

/** Every child started and not yet known to have exited, so a crash of the bench still kills them. */
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * @typedef {object} Server
 * @property {'mlspace' | 'mlspace-pg' | 'azurite' | 'bare'} name
 * @property {{ blob: string, file?: string }} endpoints Service URLs without the account (Azurite runs no File service).
 * @property {boolean} stores false for the bare server, which answers any upload but keeps nothing.
 * @property {string} version
 * @property {number} pid the server's process
 * @property {() => number | undefined} cpuMs CPU time the server process has used so far (all its threads), where /proc tells.
 * @property {() => Promise<void>} stop
 */

/**
 * @param {string} workDir an empty directory the servers may keep their data in
 * @param {{ profileDir?: string }} options profileDir: write a V8 CPU profile of mlspace there
 * @returns {Promise<Server>}
 */
export async function startMlspace(workDir, { profileDir, name = 'mlspace', database } = {}) {
  const dataDir = path.join(workDir, name);
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  // Every port free-picked: the defaults (10000, 10003, 10443) may be taken, by another mlspace say.
  const ports = ['--blob-port', '0', '--file-port', '0', '--blob-https-port', '0', '--file-https-port', '0', '--arm-port', '0'];
  const metadata = database ? ['--database', database] : [];
  // Local jobs on: the ml-jobs scenario runs commands (its own) on this host.
  const child = launch(name, [...profile, path.join(ROOT, 'bin/mlspace.js'), 'up', '--data-dir', dataDir, '--enable-local-jobs', ...metadata, ...ports]);
  // endpoints.json is mlspace's documented signal that it accepts requests.
  const endpoints = await untilReady(child, () => readJson(path.join(dataDir, 'endpoints.json')));
  return server(name, child, endpoints, readJson(path.join(ROOT, 'package.json')).version, true);
}

/** mlspace with its metadata in a PostgreSQL database of its own (a single node), dropped when it stops. */
export async function startMlspacePg(workDir, options = {}) {
  const database = await createBenchDatabase();
  try {
    const started = await startMlspace(workDir, { ...options, name: 'mlspace-pg', database: database.url });
    return {
      ...started,
      async stop() {
        await started.stop();
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

/** Azurite's Blob service persisting to disk (its default), as mlspace does, so neither keeps data only in memory. */
export async function startAzurite(workDir) {
  const location = path.join(workDir, 'azurite');
  fs.mkdirSync(location);
  const pkg = readJson(require.resolve('azurite/package.json'));
  const main = path.join(path.dirname(require.resolve('azurite/package.json')), pkg.bin['azurite-blob']);
  const child = launch('azurite', [
    main,
    ...['--blobPort', '0', '--location', location],
    ...['--silent', '--loose', '--skipApiVersionCheck', '--disableTelemetry'],
  ]);
  const url = await untilReady(child, () => child.output.match(/successfully listens on (http:\/\/\S+)/)?.[1]);
  return server('azurite', child, { blob: url }, pkg.version, true);
}

export async function startBare() {
  const child = launch('bare', [fileURLToPath(new URL('./bare-server.mjs', import.meta.url))]);
  const [, blob, file] = await untilReady(child, () => child.output.match(/blob on (http:\/\/\S+), file on (http:\/\/\S+)/));
  return server('bare', child, { blob, file }, process.version, false);
}

function launch(name, args) {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.label = name;
  child.output = '';
  // Always drain the pipes (a full pipe would stall the server) and keep the tail for error messages.
  const keep = (chunk) => {
    child.output = (child.output + chunk).slice(-8192);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  child.exited = new Promise((resolve) => child.once('exit', resolve));
  running.add(child);
  child.exited.then(() => running.delete(child));
  return child;
}

/** Polls `probe` until it returns a value; fails early, with the child's output, if the child dies. */
async function untilReady(child, probe) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited = false;
  child.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    const value = probe();
    if (value) return value;
    if (exited) throw new Error(`${child.label} exited before it was ready:\n${child.output}`);
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`${child.label} was not ready after ${START_TIMEOUT_MS / 1000} s:\n${child.output}`);
}

function server(name, child, endpoints, version, stores) {
  return {
    name,
    endpoints,
    stores,
    version,
    pid: child.pid,
    cpuMs: () => processCpuMs(child.pid),
    async stop() {
      if (!running.has(child)) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await child.exited;
      clearTimeout(timer);
    },
  };
}

/** Clock ticks per second of /proc's CPU times: USER_HZ, 100 on every Linux Node runs on. */
const USER_HZ = 100;

/** utime + stime of a process from /proc/PID/stat, or undefined where there is no /proc. */
function processCpuMs(pid) {
  try {
    // Fields after the parenthesised command name: state is field 3, utime 14 and stime 15.
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

const STARTERS = { mlspace: startMlspace, 'mlspace-pg': startMlspacePg, azurite: startAzurite, bare: startBare };

/**
 * Starts the named servers one after another (so start-up work does not compete),
 * stopping those already started if one fails.
 * @returns {Promise<Record<string, Server>>}
 */
export async function startServers(names, workDir, options) {
  const started = {};
  try {
    for (const name of names) started[name] = await STARTERS[name](workDir, options);
    return started;
  } catch (error) {
    await stopServers(started);
    throw error;
  }
}

export async function stopServers(servers) {
  await Promise.all(Object.values(servers).map((s) => s.stop()));
}
