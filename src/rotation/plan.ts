import type { StorageAccountRecord } from '../db/records.js';
import { ArmError } from '../management/http/errors.js';
import { activeKey, consumerJson, keyAges, reliesOn, type Consumer, type KeyName } from './consumers.js';

/**
 * What a rotation does with one consumer:
 * - moveKey: its account key is the retired one; it gets the kept key.
 * - reissueSas: its SAS was signed with the retired key; it gets the same SAS signed with the kept key.
 * - keep: it already uses the kept key.
 * - stale, expiredSas, unknown: it does not work now (or cannot be told), and the rotation cannot change that.
 * - blocked: it would stop working, and the rotation cannot move it (a SAS without reissueSas).
 */
type PlannedAction = 'moveKey' | 'reissueSas' | 'keep' | 'stale' | 'expiredSas' | 'unknown' | 'blocked';

interface RotationOptions {
  /** The key to retire; by default the one the consumers use. */
  keyName?: KeyName;
  reissueSas: boolean;
}

export function actionFor(consumer: Consumer, retired: KeyName, reissueSas: boolean): { action: PlannedAction; reason?: string } {
  if (consumer.matches === 'unknown') return { action: 'unknown', reason: consumer.sas?.why };
  if (consumer.matches === 'stale') return { action: 'stale', reason: 'its credential matches neither key now; re-register it with a current key' };
  if (consumer.matches !== retired) return { action: 'keep' };
  if (!consumer.sas) return { action: 'moveKey' };
  if (consumer.sas.expired) return { action: 'expiredSas', reason: `its SAS expired at ${consumer.sas.expiry}` };
  if (!reissueSas) return { action: 'blocked', reason: `its SAS was signed with ${retired}; pass reissueSas: true to re-sign it, or re-register it` };
  if (consumer.sas.params.get('ses')) return { action: 'blocked', reason: 'its SAS names an encryption scope (ses), which this server cannot re-sign; re-register it' };
  return { action: 'reissueSas' };
}

/** The key a rotation retires: the one asked for, else the one the consumers use; ambiguous when they use both. */
function chooseRetiredKey(account: StorageAccountRecord, consumers: Consumer[], asked: KeyName | undefined): KeyName {
  if (asked) return asked;
  const active = activeKey(consumers, account);
  if (active !== 'both') return active;
  const count = (key: KeyName) => consumers.filter((consumer) => reliesOn(consumer, key)).length;
  throw new ArmError(
    400,
    'KeyNameRequired',
    `The consumers of storage account '${account.name}' use both keys (${count('key1')} on key1, ${count('key2')} on key2), so the key to retire is ambiguous. ` +
      "Pass keyName ('key1' or 'key2'): the consumers of that key are moved to the other one before it is regenerated.",
  );
}

export function otherKey(key: KeyName): KeyName {
  return key === 'key1' ? 'key2' : 'key1';
}

/**
 * The plan of a rotation: the key retired and kept, and what happens to each
 * consumer. `summary` is what the journal keeps and the status reports (counts
 * and every consumer that is not simply moved or kept); `consumers` lists all,
 * for a dry run.
 */
export function planRotation(account: StorageAccountRecord, consumers: Consumer[], options: RotationOptions, now = Date.now()) {
  const retiredKey = chooseRetiredKey(account, consumers, options.keyName);
  const counts: Record<PlannedAction, number> = { moveKey: 0, reissueSas: 0, keep: 0, stale: 0, expiredSas: 0, unknown: 0, blocked: 0 };
  const attention: { id: string; action: PlannedAction; reason?: string }[] = [];
  const planned = consumers.map((consumer) => {
    const { action, reason } = actionFor(consumer, retiredKey, options.reissueSas);
    counts[action]++;
    if (reason) attention.push({ id: consumer.resourceId, action, reason });
    return { ...consumerJson(consumer), action, ...(reason ? { reason } : {}) };
  });
  const summary = {
    accountName: account.name,
    resourceGroup: account.resourceGroup,
    retiredKey,
    keptKey: otherKey(retiredKey),
    reissueSas: options.reissueSas,
    keyAges: keyAges(account, now),
    counts: { consumers: consumers.length, ...counts },
    /** Consumers that need a person: blocked ones stop the rotation; the others are only reported. */
    attention,
  };
  return { summary, consumers: planned };
}

export type RotationPlanSummary = ReturnType<typeof planRotation>['summary'];

/** A rotation would break the consumers it cannot move: refuse it, naming them and what to do. */
export function blockedError(summary: RotationPlanSummary): ArmError {
  const blocked = summary.attention.filter((entry) => entry.action === 'blocked');
  const named = blocked.slice(0, 5).map((entry) => `${entry.id} (${entry.reason})`);
  return new ArmError(
    409,
    'RotationWouldBreakConsumers',
    `Rotating ${summary.retiredKey} of storage account '${summary.accountName}' would break ${blocked.length} consumer(s) it cannot move: ${named.join('; ')}${blocked.length > 5 ? '; ...' : ''}. ` +
      'Pass reissueSas: true to re-sign their SAS with the kept key, or re-register them; a dry run (dryRun: true) lists them all.',
  );
}
