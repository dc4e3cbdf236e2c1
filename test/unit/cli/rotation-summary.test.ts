import { describe, expect, it } from 'vitest';
import { rotationSummary } from '../../../src/cli/rotation-progress.js';
import type { RotationStatus } from '../../../src/sdk/key-rotation.js';

describe('rotationSummary', () => {
  it('counts consumers per outcome, whatever their number', () => {
    const results = [
      ...Array.from({ length: 3 }, (_, i) => ({ id: `ds${i}`, action: 'move', state: 'verified' })),
      { id: 'sas', action: 'reissue', state: 'verified' },
    ];
    const status = {
      name: 'r1',
      status: 'Succeeded',
      startTime: '2026-11-22T10:00:00.000Z',
      endTime: '2026-11-22T10:00:01.500Z',
      properties: { plan: { retiredKey: 'key1', keptKey: 'key2' }, counts: { moved: 4, verified: 4, failed: 0, restored: 0 }, results },
    } as unknown as RotationStatus;
    const text = rotationSummary(status);
    expect(text).toContain('Rotation r1 Succeeded in 1.5 s: key1 retired, consumers on key2; 4 consumers moved: 4 verified, 0 failed, 0 restored.');
    expect(text).toMatch(/move\s+verified\s+3/);
    expect(text).toMatch(/reissue\s+verified\s+1/);
  });
});
