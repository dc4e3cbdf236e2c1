import cliProgress from 'cli-progress';
import type { RotationStatus } from '../sdk/key-rotation.js';

/** A rotation's steps in the order it passes them, for a progress bar (a rollback replaces the last ones). */
const STEPS = ['plan', 'move', 'verify-moved', 'regenerate', 'verify-final'];

/**
 * A progress bar on stderr while a rotation runs, when stderr is a terminal;
 * nothing otherwise, so logs and pipes stay clean.
 */
export function rotationProgress(label: string): { update(status: RotationStatus): void; stop(): void } {
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
    stop() {
      if (started) bar.stop();
    },
  };
}
