import type { RotationRecord } from '../db/rotations.js';
import type { ManagementDeps } from '../management/deps.js';

/**
 * A rotation as its ARM async-operation status resource shows it: status,
 * the plan, the current step, counts, and the consumers that need attention
 * (all of them with `expand`). Never a secret.
 */
export async function rotationStatusJson(deps: ManagementDeps, accountArmId: string, rotation: RotationRecord, expand: boolean) {
  // `moved` counts every consumer the rotation moved, whatever became of it since: verified,
  // failed, restored or changed elsewhere are counts of those, so the figures add up.
  const counts: Record<string, number> = { moved: 0, verified: 0, failed: 0, restored: 0, changedElsewhere: 0, sasReissued: 0 };
  for (const { state, action, n } of await deps.rotations.moveCounts(rotation.id)) {
    counts.moved! += n;
    if (state !== 'moved') counts[state] = (counts[state] ?? 0) + n;
    if (action === 'reissueSas' && rotation.status !== 'Failed') counts.sasReissued! += n;
  }
  const results = (await deps.rotations.moves(rotation.id))
    .filter((move) => expand || (move.state !== 'verified' && move.state !== 'moved'))
    .map((move) => ({ id: move.resourceId, action: move.action, state: move.state, ...(move.detail ? { detail: move.detail } : {}) }));
  const steps = await deps.rotations.steps(rotation.id);
  const verifyFinal = steps.filter((step) => step.step === 'verify-final' && step.phase === 'done').pop();
  return {
    id: `${accountArmId}/rotations/${rotation.id}`,
    name: rotation.id,
    status: rotation.status,
    startTime: new Date(rotation.created).toISOString(),
    ...(rotation.ended === undefined ? {} : { endTime: new Date(rotation.ended).toISOString() }),
    ...(rotation.status === 'Failed' && rotation.error ? { error: rotation.error } : {}),
    properties: {
      plan: rotation.plan,
      step: rotation.step,
      phase: rotation.phase,
      attempts: rotation.attempts,
      caller: { clientId: rotation.callerId, displayName: rotation.callerName },
      counts,
      results,
      ...(verifyFinal?.detail.warnings ? { warnings: verifyFinal.detail.warnings } : {}),
      steps: steps.map((step) => ({ name: step.step, phase: step.phase, time: new Date(step.at).toISOString(), ...step.detail })),
    },
  };
}
