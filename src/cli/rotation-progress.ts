import cliProgress from 'cli-progress';
import type { RotationStatus } from '../sdk/key-rotation.js';
import { formatOutput } from './output/format.js';

/** A rotation's steps in the order it passes them, for a progress bar (a rollback replaces the last ones). */
const STEPS = ['plan', 'move', 'verify-moved', 'regenerate', 'verify-final'];

/**
 * A progress bar on stderr while a rotation runs, and a summary table when it
 * ends, when stderr is a terminal; nothing otherwise, so logs and pipes stay clean.
 */
export function rotationProgress(label: string): { update(status: RotationStatus): void; stop(final?: RotationStatus): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {step} | {moved} moved, {verified} verified, {restored} restored`, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(status) {
      const { step, phase, counts } = status.properties;
      const reached = Math.max(0, STEPS.indexOf(step)) + (phase === 'done' ? 1 : 0.5);
      const payload = { step: `${step} ${phase}`, moved: counts.moved ?? 0, verified: counts.verified ?? 0, restored: counts.restored ?? 0 };
      const value = status.status === 'InProgress' ? reached : STEPS.length;
      if (!started) {
        bar.start(STEPS.length, value, payload);
        started = true;
      } else bar.update(value, payload);
    },
    stop(final) {
      if (started) bar.stop();
      if (final) process.stderr.write(rotationSummary(final));
    },
  };
}

/** What happened to the consumers, one row per outcome (ten thousand consumers make a few rows, not ten thousand). */
export function rotationSummary(status: RotationStatus): string {
  const outcomes = new Map<string, number>();
  for (const result of status.properties.results) {
    const key = `${result.action}\u0000${result.state}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  const rows = [...outcomes].map(([key, count]) => {
    const [action, state] = key.split('\u0000');
    return { Action: action, State: state, Consumers: count };
  });
  const { retiredKey, keptKey } = status.properties.plan;
  const seconds = status.endTime ? ((Date.parse(status.endTime) - Date.parse(status.startTime)) / 1000).toFixed(1) : '?';
  const { moved = 0, verified = 0, failed = 0, restored = 0 } = status.properties.counts;
  const counts = `${moved} consumer${moved === 1 ? '' : 's'} moved: ${verified} verified, ${failed} failed, ${restored} restored`;
  return `\nRotation ${status.name} ${status.status} in ${seconds} s: ${retiredKey} retired, consumers on ${keptKey}; ${counts}.\n${formatOutput(rows, 'table', false)}`;
}
