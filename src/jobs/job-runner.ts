import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UNFINISHED, type JobChange, type JobRecord, type JobStatus } from '../db/jobs.js';
import type { WorkspaceRecord } from '../db/workspaces.js';
import type { ManagementDeps } from '../management/deps.js';
import { runJob, type JobOutcome } from './job-run.js';

/** A job whose node is gone ends: Canceled when that was asked, else Failed, saying why; what it left running on this host goes. */
async function endLostJob(deps: ManagementDeps, job: JobRecord, message: string): Promise<void> {
  if (job.pid !== undefined && job.host === os.hostname()) killOrphan(job);
  const from: readonly JobStatus[] = [job.status];
  const change: JobChange =
    job.status === 'CancelRequested' ? { status: 'Canceled', endTime: Date.now() } : { status: 'Failed', endTime: Date.now(), error: { code: 'ServerRestarted', message } };
  const ended = await deps.jobs.update(job.workspaceId, job.name, change, from);
  if (ended) deps.logger.warn({ job: job.name, status: ended.status }, 'job lost with its node');
}

/**
 * At the start of a lone node, whether or not it runs jobs now: the jobs its
 * predecessor left unfinished died with it.
 */
export async function failInterruptedJobs(deps: ManagementDeps): Promise<void> {
  if (deps.node.shared) return;
  for (const job of await deps.jobs.unfinished()) await endLostJob(deps, job, 'The server restarted while the job ran; run it again.');
}

/**
 * The processes a killed server's job left behind: its process group, if that
 * process is still the job's (its environment names the job; a pid may have
 * been reused since).
 */
function killOrphan(job: JobRecord): void {
  try {
    const environ = fs.readFileSync(`/proc/${job.pid}/environ`, 'utf8');
    if (environ.split('\0').includes(`AZUREML_RUN_ID=${job.name}`)) process.kill(-job.pid!, 'SIGKILL');
  } catch {
    // Gone already, or not ours to see.
  }
}

/** How often a node says it still runs its jobs, and looks for cancels asked on other nodes. */
const BEAT_MS = 1_000;

/**
 * Runs command jobs on this node (`mlspace up --enable-local-jobs`), a few at
 * a time, and moves their status NotStarted → Queued → Running → Completed,
 * Failed or Canceled by compare-and-set, so a cancel asked on any node and the
 * run's own progress never overwrite each other. A job runs on the node that
 * created it; a job whose node stopped (or died: no heartbeat for three node
 * leases) is marked Failed, as Azure ML fails a job whose compute is lost.
 */
export class JobRunner {
  /** The runs here, each with what stops it and what ends with it. */
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly waiting: { job: JobRecord; workspace: WorkspaceRecord }[] = [];
  private readonly concurrency = Math.max(1, os.availableParallelism());
  private readonly timer?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    private readonly deps: ManagementDeps,
    /** Where jobs' working directories go. */
    private readonly dir: string,
  ) {
    // A lone node hears every cancel itself and has no other node to watch: only a shared database needs the beat.
    if (deps.node.shared) {
      this.timer = setInterval(() => void this.beat().catch((error: unknown) => deps.logger.error({ err: error }, 'job heartbeat failed; the next one tries again')), BEAT_MS).unref();
    }
  }

  private key(job: Pick<JobRecord, 'workspaceId' | 'name'>): string {
    return `${job.workspaceId}/${job.name}`;
  }

  /** Takes a job just created (NotStarted): it is Queued here, and runs when a slot is free. */
  async submit(job: JobRecord, workspace: WorkspaceRecord): Promise<void> {
    const queued = await this.deps.jobs.update(job.workspaceId, job.name, { status: 'Queued', node: this.deps.node.id, host: os.hostname(), heartbeat: Date.now() }, ['NotStarted']);
    if (!queued) return;
    this.waiting.push({ job: queued, workspace });
    this.next();
  }

  private queuedHere(job: Pick<JobRecord, 'workspaceId' | 'name'>): number {
    return this.waiting.findIndex((waiting) => this.key(waiting.job) === this.key(job));
  }

  /** Stops the job if it runs here; the status it ends in is the run's to set (Canceled). */
  cancelHere(job: Pick<JobRecord, 'workspaceId' | 'name'>): void {
    this.running.get(this.key(job))?.controller.abort('canceled');
    const index = this.queuedHere(job);
    if (index >= 0) void this.end(this.waiting.splice(index, 1)[0]!.job, { status: 'Canceled' });
  }

  private next(): void {
    while (!this.stopping && this.running.size < this.concurrency && this.waiting.length > 0) {
      const { job, workspace } = this.waiting.shift()!;
      const controller = new AbortController();
      const done = this.run(job, workspace, controller.signal).finally(() => {
        this.running.delete(this.key(job));
        this.next();
      });
      this.running.set(this.key(job), { controller, done });
    }
  }

  private async run(job: JobRecord, workspace: WorkspaceRecord, signal: AbortSignal): Promise<void> {
    let outcome: JobOutcome;
    try {
      outcome = await runJob({
        deps: this.deps,
        job,
        workspace,
        workDir: path.join(this.dir, job.workspaceId, job.name),
        signal,
        started: async () => (await this.deps.jobs.update(job.workspaceId, job.name, { status: 'Running', startTime: Date.now() }, ['Queued'])) !== undefined,
        spawned: async (pid) => void (await this.deps.jobs.update(job.workspaceId, job.name, { pid }, UNFINISHED)),
      });
    } catch (error) {
      this.deps.logger.error({ err: error, job: job.name }, 'a job failed unexpectedly');
      outcome = { status: 'Failed', error: { code: 'SystemError', message: `The job failed unexpectedly: ${(error as Error).message}` } };
    }
    if (signal.aborted && signal.reason === 'stopping') {
      outcome = { status: 'Failed', error: { code: 'ServerStopped', message: 'The server stopped while the job ran; run it again.' } };
    }
    await this.end(job, outcome);
  }

  private async end(job: JobRecord, outcome: JobOutcome): Promise<void> {
    const change: JobChange = { status: outcome.status, endTime: Date.now(), ...(outcome.status === 'Failed' && { error: outcome.error }) };
    const ended = await this.deps.jobs.update(job.workspaceId, job.name, change, UNFINISHED);
    if (ended) this.deps.logger.info({ job: job.name, workspace: job.workspaceId, status: ended.status, code: ended.error?.code }, 'job ended');
  }

  /**
   * Every second: the jobs here say they still run, and learn whether a cancel
   * was asked on another node; jobs whose node went silent are failed.
   */
  private async beat(): Promise<void> {
    const now = Date.now();
    for (const job of await this.deps.jobs.unfinished()) {
      const here = this.running.has(this.key(job)) || this.queuedHere(job) >= 0;
      if (here) {
        if (job.status === 'CancelRequested') this.cancelHere(job);
        else await this.deps.jobs.update(job.workspaceId, job.name, { heartbeat: now }, UNFINISHED);
      } else if (job.node !== this.deps.node.id && (job.heartbeat ?? job.created) < now - 3 * this.deps.node.leaseMs) {
        await endLostJob(this.deps, job, 'The node running the job stopped answering; run it again.');
      }
    }
  }

  /**
   * At start: a lone node's unfinished jobs were this process's predecessor's,
   * which is gone, so they failed; on a shared database only those whose node
   * went silent did (see beat).
   */
  async recover(): Promise<void> {
    if (this.deps.node.shared) return this.beat();
    await failInterruptedJobs(this.deps);
  }

  /** Stops every job here (they end Failed, saying so) and waits for them. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    for (const { job } of this.waiting.splice(0)) await this.end(job, { status: 'Failed', error: { code: 'ServerStopped', message: 'The server stopped before the job started; run it again.' } });
    const runs = [...this.running.values()];
    for (const { controller } of runs) controller.abort('stopping');
    await Promise.all(runs.map((run) => run.done));
  }
}
