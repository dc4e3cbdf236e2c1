// One core for the load generator, one for the server under test, in the
// scenarios that run the official client in request loops (leases, appends,
// page writes). Unpinned, the scheduler moved the client, the server
// and the server's thread-pool threads across the two cores as it pleased: the
// bare server's lease rate varied from 1,552 to 2,406 pairs/s in back-to-back
// runs, and a server that did more per request also slowed the client it
// shared a core with. Pinned, each column is what one server core does for a
// client that has a core of its own, the same for every server.
import { execFileSync } from 'node:child_process';
import os from 'node:os';

const CLIENT_CORE = 0;
const SERVER_CORE = 1;

/**
 * Pins this process to one core and each server (all its threads) to another;
 * returns what undoes it. Where taskset or a second core is missing, pins
 * nothing and says so (`pinned: false`).
 */
export function pinCores(servers) {
  const all = `0-${os.cpus().length - 1}`;
  const pids = servers.map((server) => server.pid);
  if (os.cpus().length < 2 || !taskset(String(CLIENT_CORE), process.pid)) return { pinned: false, release() {} };
  for (const pid of pids) taskset(String(SERVER_CORE), pid);
  return {
    pinned: true,
    release() {
      for (const pid of [process.pid, ...pids]) taskset(all, pid);
    },
  };
}

/** Sets the affinity of every thread of `pid`; false where taskset is not there (or the process is gone). */
function taskset(cores, pid) {
  try {
    execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', cores, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
