import { spawn } from 'node:child_process';

/** How long a stopped job's processes have between SIGTERM and SIGKILL. */
const GRACE_MS = 5_000;

export interface ProcessEnd {
  /** The exit code, or undefined when a signal ended it. */
  code?: number;
  signal?: string;
  /** Set when `stop` ended it, with the reason given. */
  stopped?: string;
}

/**
 * Holds the command until `release`: the shell reads one line from its stdin
 * first, and a server killed before it releases closes the pipe, so the
 * command never starts. The command then has stdin at end of file.
 */
const GATE = 'read -r _ && exec /bin/sh -c "$0"';

/**
 * A job's command, run by /bin/sh in its own process group, so that stopping
 * it stops everything it started. It starts only when released, so a server
 * can first record its pid where another node finds it if this one dies. Its
 * stdout and stderr go, in the order they arrive, to `onOutput`. The
 * environment is exactly `env`: the server's own (its master key, its admin
 * client) never reaches the job.
 */
export class JobProcess {
  private readonly child;
  private stoppedFor?: string;
  readonly ended: Promise<ProcessEnd>;

  constructor(command: string, cwd: string, env: Record<string, string>, onOutput: (chunk: Buffer) => void) {
    this.child = spawn('/bin/sh', ['-c', GATE, command], { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    // A write to a shell already gone (stopped before release) is no error of the job's.
    this.child.stdin.on('error', () => undefined);
    this.child.stdout.on('data', onOutput);
    this.child.stderr.on('data', onOutput);
    this.ended = new Promise((resolve) => {
      this.child.on('error', (error) => {
        onOutput(Buffer.from(`${error.message}\n`));
        resolve({ code: 127 });
      });
      // 'close' waits for both pipes to drain, so no output is lost.
      this.child.on('close', (code, signal) => {
        // What the command left running in its group goes with it.
        this.signalGroup('SIGKILL');
        resolve({ code: code ?? undefined, signal: signal ?? undefined, stopped: this.stoppedFor });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Lets the command start. */
  release(): void {
    this.child.stdin.end('\n');
  }

  /** Ends the whole group: SIGTERM, then SIGKILL after a grace period. */
  stop(reason: string): void {
    if (this.stoppedFor !== undefined) return;
    this.stoppedFor = reason;
    this.signalGroup('SIGTERM');
    const killer = setTimeout(() => this.signalGroup('SIGKILL'), GRACE_MS);
    killer.unref();
    void this.ended.then(() => clearTimeout(killer));
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // The group is gone already.
    }
  }
}
