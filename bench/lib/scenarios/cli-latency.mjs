// CLI latency: the wall time of one `mlspace` management command, start to exit,
// as a user at a terminal waits for it (median of 20 runs each, one at a time),
// beside `--help` and a bare `node -e ''` (the floor: Node's own start-up here).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/mlspace.js');
const RUNS = 20;

export default {
  id: 'cli-latency',
  title: `CLI latency: one management command, start to exit (median of ${RUNS} runs)`,
  servers: ['mlspace'],
  targets: [
    { row: 'group-list', of: 'mlspace', atMost: 300 },
    { row: 'keys-list', of: 'mlspace', atMost: 300 },
    { row: 'datastore-list', of: 'mlspace', atMost: 300 },
  ],

  async run({ mlspace }, settings, log) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-cli-bench-'));
    const env = { ...process.env, MLSPACE_HOME: home };
    const cli = (...args) => execFileSync(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const dataDir = path.dirname(mlspace.endpoints.adminClientFile);
      cli('login', '--data-dir', dataDir, '-o', 'none');
      cli('group', 'create', '-n', 'clibench', '-l', 'eastus', '-o', 'none');
      cli('storage', 'account', 'create', '-n', 'clibenchacct', '-g', 'clibench', '-o', 'none');
      cli('ml', 'workspace', 'create', '-n', 'clibenchws', '-g', 'clibench', '--storage-account', 'clibenchacct', '-o', 'none');
      const commands = [
        { id: 'node', label: "bare `node -e ''` (Node's start-up: the floor)", argv: ['-e', ''] },
        { id: 'help', label: '`mlspace --help`', argv: [BIN, '--help'] },
        { id: 'group-list', label: '`mlspace group list`', argv: [BIN, 'group', 'list'] },
        { id: 'keys-list', label: '`mlspace storage account keys list`', argv: [BIN, 'storage', 'account', 'keys', 'list', '-g', 'clibench', '-n', 'clibenchacct'] },
        { id: 'datastore-list', label: '`mlspace ml datastore list`', argv: [BIN, 'ml', 'datastore', 'list', '-g', 'clibench', '-w', 'clibenchws'] },
      ];
      const rows = [];
      for (const command of commands) {
        const times = [];
        for (let run = 0; run < RUNS; run++) {
          const start = process.hrtime.bigint();
          execFileSync(process.execPath, command.argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
          times.push(Number(process.hrtime.bigint() - start) / 1e6);
        }
        times.sort((a, b) => a - b);
        const median = (times[RUNS / 2 - 1] + times[RUNS / 2]) / 2;
        log(`${command.id}: median ${median.toFixed(0)} ms (min ${times[0].toFixed(0)}, max ${times[RUNS - 1].toFixed(0)})`);
        rows.push({ id: command.id, label: command.label, unit: 'ms', values: { mlspace: Math.round(median) } });
      }
      return rows;
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  },
};
