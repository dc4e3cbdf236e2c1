import type { ManagementDeps } from '../management/deps.js';

/**
 * On start, before any new rotation can be asked for: every rotation a
 * previous process left in progress (killed, or stopped mid-way) is run again
 * from its journal, which resumes it or rolls it back (see RotationEngine).
 * It stays InProgress meanwhile, so a second rotation of the account is
 * still a 409.
 */
export async function recoverRotations(deps: ManagementDeps): Promise<void> {
  for (const rotation of await deps.rotations.unfinished()) {
    deps.logger.info({ rotationId: rotation.id, account: rotation.account, step: rotation.step, phase: rotation.phase }, 'resuming an interrupted key rotation');
    await deps.rotation.resume(rotation);
  }
}
