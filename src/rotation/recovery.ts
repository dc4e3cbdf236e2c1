import { recoverMigrations } from '../keyless/migrate.js';
import type { ManagementDeps } from '../management/deps.js';

/**
 * Every rotation left in progress by a process that stopped (killed, or shut
 * down mid-way) is run again from its journal, which resumes it or rolls it
 * back (see RotationEngine). It stays InProgress meanwhile, so a second
 * rotation of the account is still a 409. On start, before any new rotation
 * can be asked for; and, when nodes share the database, every lease from
 * then on, for rotations whose node died (RotationEngine.resume takes only
 * those whose lease has run out).
 */
export async function recoverRotations(deps: ManagementDeps): Promise<void> {
  for (const rotation of await deps.rotations.unfinished()) {
    if (await deps.rotation.resume(rotation)) {
      deps.logger.info({ rotationId: rotation.id, kind: rotation.kind, subject: rotation.account, step: rotation.step, phase: rotation.phase }, 'resuming an interrupted rotation');
    }
  }
}

/** Looks for rotations (and keyless migrations) of dead nodes every lease, on a shared database; answers a stop function. */
export function watchRotations(deps: ManagementDeps): () => void {
  if (!deps.node.shared) return () => {};
  const timer = setInterval(
    () =>
      void Promise.all([recoverRotations(deps), recoverMigrations(deps)]).catch((error: unknown) =>
        deps.logger.error({ err: error }, 'looking for interrupted key rotations or keyless migrations failed; the next lease tries again'),
      ),
    deps.node.leaseMs,
  ).unref();
  return () => clearInterval(timer);
}
