import type { Sealer } from './seal.js';

/** The settings row that holds the first master key's check value. */
export const MASTER_KEY_CHECK = 'masterKeyCheck';

/**
 * Refuses a master key that is not the one the deployment's secrets were
 * sealed with, before anything is unsealed, sealed or migrated: a second node
 * started with another key would otherwise fail on the first key it reads, or
 * worse, seal new secrets no other node can open. The database keeps the first
 * key's check value; a data directory from before the check has none, and then
 * one of its sealed secrets says whether the key opens it.
 */
export function checkMasterKey(evidence: { check?: string; sealed?: string }, sealer: Sealer): void {
  if (evidence.check !== undefined) {
    if (!sealer.matchesCheck(evidence.check)) throw wrongKey(sealer);
    return;
  }
  if (evidence.sealed === undefined) return;
  try {
    sealer.unseal(evidence.sealed);
  } catch {
    throw wrongKey(sealer);
  }
}

function wrongKey(sealer: Sealer): Error {
  return new Error(
    `The master key from ${sealer.source} is not the one this deployment's secrets were sealed with, so it cannot open them; ` +
      'nothing was changed. Start with the master key the data was created with (every node of one deployment must share it): ' +
      'set MLSPACE_MASTER_KEY, or --master-key-file to a file that holds it.',
  );
}
