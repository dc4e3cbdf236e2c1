import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobProcess } from '../../../src/jobs/job-process.js';

describe("a job's process", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'job-process-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs its command only once released, with stdin at end of file', async () => {
    const output: Buffer[] = [];
    const child = new JobProcess('echo started; cat; echo "$0 done"', dir, { PATH: process.env.PATH! }, (chunk) => output.push(chunk));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(Buffer.concat(output).toString()).toBe('');
    child.release();
    expect(await child.ended).toEqual({ code: 0, signal: undefined, stopped: undefined });
    expect(Buffer.concat(output).toString()).toBe('started\n/bin/sh done\n');
  });

  it('never runs its command when the server dies before releasing it', async () => {
    const marker = path.join(dir, 'ran');
    // The built module, as the server runs it.
    const module = path.resolve('dist/jobs/job-process.js');
    // A server that spawns the job and dies at once, as kill -9 between spawn and release would leave it.
    const script = `import { JobProcess } from ${JSON.stringify(module)}; const child = new JobProcess('touch ${marker}', ${JSON.stringify(dir)}, { PATH: process.env.PATH }, () => {}); console.log(child.pid); process.exit(0);`;
    const pid = Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim());
    await expect.poll(() => fs.existsSync(`/proc/${pid}`), { timeout: 5_000 }).toBe(false);
    expect(fs.existsSync(marker)).toBe(false);
  });
});
