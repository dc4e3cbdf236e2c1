import type { CredentialHolder } from '../db/consumers.js';
import type { JournalEntry, MoveRecord, Moves, RotationStatus, SubjectState } from '../db/rotations.js';

export type RotationError = { code: string; message: string };

/** Stops a rotation's forward path: it is rolled back for this reason. */
export class Abort extends Error {
  constructor(readonly reason: RotationError) {
    super(reason.message);
  }
}

/** A holder that should work now, with its ARM id for reports. */
export interface CurrentHolder {
  holder: CredentialHolder;
  resourceId: string;
}

/** What the activity log records of a rotation: its start (Accepted) and its outcome. */
export interface RotationActivity {
  operation: string;
  resourceId: string;
  resourceGroup: string;
  properties: Record<string, unknown>;
}

/**
 * One kind of credential the rotation engine renews: a storage account's key
 * (account-key.ts) or a service principal's client secret (client-secret.ts).
 * The engine runs the steps, journals them, resumes and rolls back; the kind
 * says what each step reads, moves and retires.
 */
export interface RotatedCredential {
  /** The retired credential, as messages name it: 'key1', 'the old client secret'. */
  readonly retired: string;
  /**
   * Before the first move: makes valid what the consumers move to (a new client
   * secret beside the old; nothing for a key, both are always valid). Safe to
   * run again; a rollback undoes it with `withdraw`.
   */
  prepare(): Promise<void>;
  /**
   * Inside the move step's transaction (synchronous, pure): each holder that
   * relies on the retired credential, with the sealed credential it gets, and
   * counts per action. Throws Abort when one cannot be moved, or the subject is gone.
   */
  moves(state: SubjectState): Moves<Record<string, number>>;
  /**
   * Retires the credential, in one transaction with `entry`, after checking in
   * it that no holder relies on it any more; false, changing nothing, when one
   * does (it started to meanwhile: another round moves it).
   */
  retire(entry: JournalEntry): Promise<boolean>;
  /** Every holder of the subject's credentials as it is now, to match the moves recorded. */
  holders(): Promise<CredentialHolder[]>;
  /** The holders that should work once the credential is retired, to verify once more. */
  current(): Promise<CurrentHolder[]>;
  /** After a rollback has restored the holders: what `prepare` made valid stops being valid. */
  withdraw(): Promise<void>;
  /** The activity log's event: at the start (Accepted), and at the end with the moves made. */
  activity(status: 'Accepted' | Exclude<RotationStatus, 'InProgress'>, moves: MoveRecord[]): RotationActivity;
}

/** The consumers a rotation changed and kept changed: verified, or failed after the move. */
export function changedBy(moves: MoveRecord[]): string[] {
  return moves.filter((move) => move.state === 'verified' || move.state === 'failed').map((move) => move.resourceId);
}
