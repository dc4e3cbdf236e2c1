import { AnonymousCredential, BlobClient, BlobServiceClient, StorageSharedKeyCredential, type StoragePipelineOptions } from '@azure/storage-blob';
import { ShareServiceClient, StorageSharedKeyCredential as FileKeyCredential } from '@azure/storage-file-share';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliIn } from '../helpers/cli.js';
import { errorOf, statusAndCode } from '../helpers/errors.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const installed = fs.existsSync(CHROMIUM);
if (!installed) console.warn('SKIPPED: test/e2e/console.test.ts needs Chromium (Debian: apt-get install chromium), which is not installed here.');

/**
 * Screenshots land here, to be looked at (the last run's are kept).
 * MLSPACE_CONSOLE_SHOTS=docs/console refreshes the ones the README shows.
 */
const SHOTS = process.env.MLSPACE_CONSOLE_SHOTS ? path.resolve(process.env.MLSPACE_CONSOLE_SHOTS) : path.join(os.tmpdir(), 'mlspace-console-screenshots');

let server: TestServer;
let browser: Browser;
let home: string;
let cli: ReturnType<typeof cliIn>;

beforeAll(async () => {
  if (!installed) return;
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-console-'));
  // Local jobs on: the workspaces page shows jobs the test runs (an echo, and a read of a datastore).
  server = await startTestServer({ dataDir: path.join(home, 'data'), args: ['--enable-local-jobs'] });
  cli = cliIn(home);
  for (const args of [
    ['login', '-o', 'none'],
    ['group', 'create', '-n', 'rg-console', '-l', 'eastus', '-o', 'none'],
    ['storage', 'account', 'create', '-n', 'consoleacct', '-g', 'rg-console', '-o', 'none'],
    ['ml', 'workspace', 'create', '-n', 'consolews', '-g', 'rg-console', '--storage-account', 'consoleacct', '-o', 'none'],
  ]) {
    const result = await cli(...args);
    if (result.code !== 0) throw new Error(`mlspace ${args.join(' ')}: ${result.stderr}`);
  }
  fs.mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

/** The right edge, in CSS pixels, of the widest table on the page: past the window's width it runs off the screen. */
const widestTable = (page: Page) => page.evaluate(() => Math.max(0, ...Array.from(document.querySelectorAll('table'), (table) => table.getBoundingClientRect().right)));

const sha256 = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');

/** The SDK clients of consoleacct, with its current key1: what the browser's work is checked against. */
async function adminClients() {
  const key = (await cli('storage', 'account', 'keys', 'list', '-g', 'rg-console', '-n', 'consoleacct', '--query', '[0].value', '-o', 'tsv')).stdout.trim();
  return {
    blobs: new BlobServiceClient(`${server.blob}/consoleacct`, new StorageSharedKeyCredential('consoleacct', key)),
    files: new ShareServiceClient(`${server.file}/consoleacct`, new FileKeyCredential('consoleacct', key)),
  };
}

/** Presses Tab until the focused control's text is `name` (at most 40 times). */
async function tabTo(page: Page, name: string): Promise<void> {
  for (let presses = 0; presses < 40; presses++) {
    await page.keyboard.press('Tab');
    if ((await page.evaluate(() => document.activeElement?.textContent?.trim())) === name) return;
  }
  throw new Error(`Tab never reached '${name}'.`);
}

async function signInLink(): Promise<string> {
  const printed = await cli('console', '--no-browser');
  expect(printed.code, printed.stderr).toBe(0);
  return /(https:\/\/\S+#code=\S+)/.exec(printed.stdout)![1]!;
}

describe.skipIf(!installed)('the web console, in Chromium', () => {
  it('signs in once with the link mlspace console prints, and lists the accounts with key ages and consumers', async () => {
    const link = await signInLink();
    // The browser is given the server's CA's trust the way a user accepts it: this test context ignores the local CA's warning.
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(link);
    await page.getByRole('heading', { name: 'Storage accounts' }).waitFor();
    const row = page.getByRole('row', { name: /consoleacct/ });
    // The workspace and its three system datastores hold key1; none is stale.
    await expect.poll(async () => (await row.getByRole('cell').allInnerTexts()).map((text) => text.trim())).toEqual(['consoleacct', 'rg-console', 'on', '< 1 d', '< 1 d', '4', '4 / 0', '0']);
    expect(page.url()).not.toContain('code=');
    await page.screenshot({ path: path.join(SHOTS, 'accounts-1280.png'), fullPage: true });

    // The session cookie: HttpOnly, Secure, SameSite=Strict.
    const [cookie] = await context.cookies();
    expect([cookie!.name, cookie!.httpOnly, cookie!.secure, cookie!.sameSite]).toEqual(['mlspace_console', true, true, 'Strict']);
    // A change without the session's CSRF token is refused, even with the cookie.
    const forged = await page.evaluate(async () => {
      const response = await fetch('/console/api/session', { method: 'DELETE' });
      return [response.status, (await response.json()).error.code];
    });
    expect(forged).toEqual([403, 'CsrfTokenMismatch']);

    // The link worked once.
    const again = await browser.newContext({ ignoreHTTPSErrors: true });
    const second = await again.newPage();
    await second.goto(link);
    await expect.poll(async () => second.getByRole('alert').textContent()).toMatch(/used or has expired/);
    await again.close();

    // The account's page: its consumers with the key each holds, and its keys only when asked for.
    await page.getByRole('link', { name: 'consoleacct' }).click();
    await page.getByRole('heading', { name: 'consoleacct' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/accounts/rg-console/consoleacct');
    const consumerRows = page.getByRole('row', { name: /consolews/ });
    await expect.poll(async () => consumerRows.count()).toBe(4);
    for (const text of await consumerRows.allInnerTexts()) expect(text).toMatch(/\bkey1\b/);
    expect(await page.getByText(/^[A-Za-z0-9+/]{86}==$/).count()).toBe(0);
    await page.getByRole('button', { name: 'Show keys' }).click();
    await expect.poll(async () => page.locator('code.secret').count()).toBe(2);
    // Key values are painted over: the screenshots may be published (docs/console).
    await page.screenshot({ path: path.join(SHOTS, 'account-1280.png'), fullPage: true, mask: [page.locator('code.secret')], maskColor: '#8a8886' });
    // Rotate: the plan first, then the rotation, followed to its end; the consumers then hold the kept key.
    await page.getByRole('button', { name: 'Rotate keys' }).click();
    const planned = (await page.locator('.plan').textContent())!;
    const [, retired, kept] = /Retires (key[12]) and keeps (key[12])/.exec(planned)!;
    await page.getByRole('button', { name: 'Confirm rotation' }).click();
    await expect.poll(async () => page.getByRole('status').textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^Rotation of ${retired} .*Succeeded$`));
    await expect.poll(async () => (await consumerRows.allInnerTexts()).every((text) => new RegExp(`\\b${kept}\\b`).test(text))).toBe(true);
    // The keys shown before are stale now: hidden again.
    expect(await page.locator('code.secret').count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'account-rotated-1280.png'), fullPage: true });
    // A rotation started elsewhere (the CLI) appears too.
    const cliRotation = await cli('storage', 'account', 'keys', 'rotate', '-g', 'rg-console', '-n', 'consoleacct', '--key', kept === 'key1' ? 'primary' : 'secondary', '-o', 'none');
    expect(cliRotation.code, cliRotation.stderr).toBe(0);
    await expect.poll(async () => page.getByRole('status').textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^Rotation of ${kept} .*Succeeded$`));

    // A reload lands on the same page.
    await page.reload();
    await page.getByRole('heading', { name: 'Access keys' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to mlspace' }).waitFor();
    await context.close();
  });

  it('signs in with a client id and secret, says what is wrong with bad ones, and fits a narrow window in the dark theme', async () => {
    const admin = JSON.parse(fs.readFileSync(server.adminClientFile, 'utf8')) as { clientId: string; clientSecret: string };
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 480, height: 800 }, colorScheme: 'dark' });
    const page = await context.newPage();
    await page.goto(`${server.arm}/`);
    await page.getByLabel('Client id').fill(admin.clientId);
    await page.getByLabel('Client secret').fill('not-the-secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(async () => page.getByRole('alert').textContent()).toMatch(/client id or secret is wrong/);
    await page.screenshot({ path: path.join(SHOTS, 'sign-in-480-dark.png') });
    await page.getByLabel('Client secret').fill(admin.clientSecret);
    await page.keyboard.press('Enter');
    await page.getByRole('row', { name: /devstoreaccount1/ }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'accounts-480-dark.png'), fullPage: true });
    // Tables stack their rows rather than running past the window's edge.
    expect(await widestTable(page)).toBeLessThanOrEqual(480);
    await page.getByRole('link', { name: 'consoleacct' }).click();
    await page.getByRole('heading', { name: 'Consumers' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'account-480-dark.png'), fullPage: true });
    expect(await widestTable(page)).toBeLessThanOrEqual(480);
    await page.getByRole('link', { name: 'Activity log' }).click();
    await page.getByRole('heading', { name: 'Activity log' }).waitFor();
    await page.getByRole('row').nth(1).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'activity-480-dark.png') });
    expect(await widestTable(page)).toBeLessThanOrEqual(480);
    await page.getByRole('link', { name: 'Storage accounts' }).click();
    // A Reader sees no key and no button that would fail.
    const reader = JSON.parse((await cli('ad', 'sp', 'create', '--role', 'Reader', '--data-dir', server.dataDir)).stdout) as { clientId: string; clientSecret: string };
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Client id').fill(reader.clientId);
    await page.getByLabel('Client secret').fill(reader.clientSecret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'consoleacct' }).click();
    await page.getByText("Your role (Reader) may not see this account's keys.").waitFor();
    expect(await page.getByRole('button').allInnerTexts()).toEqual(['Sign out', '← Storage accounts']);
    // The page is served with a CSP that allows only its own files.
    const response = await page.request.get(`${server.arm}/console/`);
    expect(response.headers()['content-security-policy']).toContain("default-src 'self'");
    await context.close();
  });

  it('shows each workspace\'s datastores and jobs, and which datastores a renewed key left stale, and the jobs it failed', async () => {
    const run = async (...args: string[]) => {
      const result = await cli(...args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      return result.stdout.trim();
    };
    await run('storage', 'account', 'create', '-n', 'wsacct', '-g', 'rg-console', '-o', 'none');
    await run('ml', 'workspace', 'create', '-n', 'wsview', '-g', 'rg-console', '--storage-account', 'wsacct', '-o', 'none');
    await run('storage', 'container', 'create', '-n', 'data', '--account-name', 'wsacct', '-o', 'none');
    const key2 = await run('storage', 'account', 'keys', 'list', '-g', 'rg-console', '-n', 'wsacct', '--query', '[1].value', '-o', 'tsv');
    const yaml = path.join(home, 'userdata.yml');
    fs.writeFileSync(yaml, `type: azure_blob\nname: userdata\naccount_name: wsacct\ncontainer_name: data\ncredentials:\n  account_key: ${key2}\n`);
    await run('ml', 'datastore', 'create', '--file', yaml, '-w', 'wsview', '-g', 'rg-console', '-o', 'none');
    await run('storage', 'account', 'keys', 'renew', '-g', 'rg-console', '-n', 'wsacct', '--key', 'secondary', '-o', 'none');
    // Two jobs: one that needs no data, and one that reads through the datastore the renewal left stale.
    const job = (name: string, body: string) => {
      const file = path.join(home, `${name}.yml`);
      fs.writeFileSync(file, `name: ${name}\nexperiment_name: console\nenvironment: azureml:AzureML-minimal:1\n${body}`);
      return file;
    };
    await run('ml', 'job', 'create', '--file', job('says-hi', 'command: echo hi\n'), '-w', 'wsview', '-g', 'rg-console', '-o', 'none');
    const reads = 'command: ls ${{inputs.data}}\ninputs:\n  data:\n    type: uri_folder\n    path: azureml://datastores/userdata/paths/\n';
    await run('ml', 'job', 'create', '--file', job('reads-userdata', reads), '-w', 'wsview', '-g', 'rg-console', '-o', 'none');
    const status = (name: string) => run('ml', 'job', 'show', '-n', name, '-w', 'wsview', '-g', 'rg-console', '--query', 'status', '-o', 'tsv');
    for (const name of ['says-hi', 'reads-userdata']) await expect.poll(() => status(name), { timeout: 30_000, interval: 200 }).toMatch(/^(Completed|Failed)$/);
    // And one that runs until it is cancelled, from the page.
    await run('ml', 'job', 'create', '--file', job('sleeps', 'command: sleep 300\n'), '-w', 'wsview', '-g', 'rg-console', '-o', 'none');
    await expect.poll(() => status('sleeps'), { timeout: 30_000, interval: 200 }).toBe('Running');

    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(await signInLink());
    await page.getByRole('link', { name: 'Workspaces' }).click();
    await page.getByRole('heading', { name: /^wsview/ }).waitFor();
    const wsview = page.getByRole('region', { name: 'wsview', exact: true });
    const cells = async (name: string) => (await wsview.getByRole('row', { name: new RegExp(`^${name}`) }).getByRole('cell').allInnerTexts()).map((text) => text.trim());
    await expect.poll(async () => cells('userdata')).toEqual(['userdata', 'AzureBlob', 'wsacct', 'data', 'AccountKey', 'stale — re-register it']);
    await expect.poll(async () => (await cells('workspaceblobstore')).at(-1)).toMatch(/works/);
    const jobs = page.getByRole('region', { name: 'Jobs of wsview' });
    const jobCells = async (name: string) => (await jobs.getByRole('row', { name: new RegExp(`^${name}`) }).getByRole('cell').allInnerTexts()).map((text) => text.trim());
    await expect.poll(async () => (await jobCells('says-hi')).slice(0, 3)).toEqual(['says-hi', 'console', 'Completed']);
    const failed = await jobCells('reads-userdata');
    expect(failed.slice(0, 3)).toEqual(['reads-userdata', 'console', 'Failed']);
    expect(failed[5]).toMatch(/datastore 'userdata' of workspace 'wsview' is no longer key1 or key2 .*re-register the datastore/);
    // The end of a job's log, read from the workspace's artifact store.
    await jobs.getByRole('row', { name: /^says-hi/ }).getByRole('button', { name: 'Log' }).click();
    await expect.poll(async () => jobs.getByRole('complementary', { name: 'Log of says-hi' }).locator('pre').textContent()).toMatch(/^hi\n?$/);
    await page.screenshot({ path: path.join(SHOTS, 'workspaces-log-1280.png'), fullPage: true });
    // Another job's log takes its place: the failed one's command never ran (why it failed is in the table).
    await jobs.getByRole('row', { name: /^reads-userdata/ }).getByRole('button', { name: 'Log' }).click();
    const failedLog = jobs.getByRole('complementary', { name: 'Log of reads-userdata' });
    await expect.poll(async () => failedLog.locator('pre').textContent()).toBe('(the command wrote nothing)');
    await failedLog.getByRole('button', { name: 'Close' }).click();
    expect(await jobs.getByRole('complementary').count()).toBe(0);
    expect(await page.getByRole('region', { name: 'Jobs of consolews' }).count()).toBe(0);
    const sleeps = jobs.getByRole('row', { name: /^sleeps/ });
    await expect.poll(async () => (await jobCells('sleeps')).slice(0, 3)).toEqual(['sleeps', 'console', 'Running']);
    await sleeps.getByRole('button', { name: 'Cancel…' }).click();
    await expect.poll(async () => sleeps.getByRole('alertdialog').textContent()).toMatch(/Stops sleeps where it runs/);
    await page.screenshot({ path: path.join(SHOTS, 'workspaces-cancel-1280.png'), fullPage: true });
    await sleeps.getByRole('button', { name: 'Cancel job' }).click();
    // The list is read again while a job runs: it shows the cancel through.
    await expect.poll(async () => (await jobCells('sleeps'))[2], { timeout: 20_000 }).toBe('Canceled');
    expect(await status('sleeps')).toBe('Canceled');
    await expect.poll(async () => page.getByRole('region', { name: 'consolews', exact: true }).textContent()).toContain('No jobs yet: mlspace ml job create');
    await page.screenshot({ path: path.join(SHOTS, 'workspaces-1280.png'), fullPage: true });
    // On a narrow window, datastores and jobs alike stack, the reason a job failed wrapped.
    await page.setViewportSize({ width: 480, height: 800 });
    expect(await widestTable(page)).toBeLessThanOrEqual(480);
    await page.screenshot({ path: path.join(SHOTS, 'workspaces-480.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });

    // The renewal is in the activity log, filterable, and links to the account.
    await page.getByRole('link', { name: 'Activity log' }).click();
    const renewal = page.getByRole('row', { name: /regenerate.*wsacct.*mlspace-admin/i });
    await expect.poll(async () => renewal.count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'activity-1280.png'), fullPage: true });
    await page.getByLabel('Resource group').fill('nosuchgroup');
    await page.getByLabel('Resource group').press('Tab');
    await expect.poll(async () => page.getByRole('row').count()).toBe(1);
    await page.getByLabel('Resource group').fill('rg-console');
    await page.getByLabel('Resource group').press('Tab');
    await expect.poll(async () => renewal.count()).toBe(1);
    await renewal.getByRole('link', { name: 'wsacct' }).click();
    await page.getByRole('heading', { name: 'wsacct' }).waitFor();

    // Regenerating key1 names what it breaks first (userdata was already stale: 5 in all); then the workspace's sync-keys repairs its own copies only.
    await page.getByRole('button', { name: 'Regenerate key1…' }).click();
    await expect.poll(async () => page.getByRole('alertdialog').textContent()).toMatch(/breaks 4 consumer\(s\) at once.*wsview, wsview \/ workspaceartifactstore/);
    await page.getByRole('button', { name: 'Regenerate key1', exact: true }).click();
    await expect.poll(async () => (await page.getByRole('row', { name: /^wsview/ }).allInnerTexts()).filter((text) => /stale/.test(text)).length).toBe(5);
    await page.getByRole('link', { name: 'Workspaces' }).click();
    await page.getByRole('heading', { name: /^wsview/ }).waitFor();
    await expect.poll(async () => (await cells('workspaceblobstore')).at(-1)).toMatch(/stale/);
    await wsview.getByRole('button', { name: 'Sync keys…' }).click();
    await expect.poll(async () => page.getByRole('alertdialog').textContent()).toMatch(/Datastores you registered are not updated: userdata/);
    await page.getByRole('button', { name: 'Sync keys', exact: true }).click();
    await expect.poll(async () => (await cells('workspaceblobstore')).at(-1)).toMatch(/works/);
    expect((await cells('userdata')).at(-1)).toMatch(/stale/);
    await page.screenshot({ path: path.join(SHOTS, 'workspaces-synced-1280.png'), fullPage: true });

    // Shared Key off, after a confirmation that names who stops working; the data plane then refuses the keys.
    await page.getByRole('link', { name: 'Storage accounts' }).click();
    await page.getByRole('link', { name: 'wsacct' }).click();
    await page.getByRole('button', { name: 'Turn Shared Key off…' }).click();
    await expect.poll(async () => page.getByRole('alertdialog').textContent()).toMatch(/refuse every key.*5 consumer\(s\) stop working \(wsview, .*userdata/);
    await page.getByRole('button', { name: 'Turn Shared Key off', exact: true }).click();
    await page.getByRole('button', { name: 'Turn Shared Key on…' }).waitFor();
    const key1 = await run('storage', 'account', 'keys', 'list', '-g', 'rg-console', '-n', 'wsacct', '--query', '[0].value', '-o', 'tsv');
    const byKey = new BlobServiceClient(`${server.blob}/wsacct`, new StorageSharedKeyCredential('wsacct', key1), { retryOptions: { maxTries: 1 } });
    expect(statusAndCode(await errorOf(byKey.getContainerClient('data').getProperties()))).toEqual([403, 'KeyBasedAuthenticationNotPermitted']);
    await page.getByRole('button', { name: 'Turn Shared Key on…' }).click();
    await page.getByRole('button', { name: 'Turn Shared Key on', exact: true }).click();
    await page.getByRole('button', { name: 'Turn Shared Key off…' }).waitFor();
    expect((await byKey.getContainerClient('data').getProperties()).etag).toBeTruthy();
    await context.close();

    // A Reader sees the jobs and why they failed, but no button that would fail: no Sync keys, no Log, no Cancel.
    const reader = JSON.parse(await run('ad', 'sp', 'create', '--role', 'Reader', '--data-dir', server.dataDir)) as { clientId: string; clientSecret: string };
    const readerContext = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    const readerPage = await readerContext.newPage();
    await readerPage.goto(`${server.arm}/console/`);
    await readerPage.getByLabel('Client id').fill(reader.clientId);
    await readerPage.getByLabel('Client secret').fill(reader.clientSecret);
    await readerPage.getByRole('button', { name: 'Sign in' }).click();
    await readerPage.getByRole('link', { name: 'Workspaces' }).click();
    const readerJobs = readerPage.getByRole('region', { name: 'Jobs of wsview' });
    await expect.poll(async () => (await readerJobs.getByRole('row', { name: /^reads-userdata/ }).getByRole('cell').allInnerTexts())[2]?.trim()).toBe('Failed');
    expect(await readerPage.getByRole('button').allInnerTexts()).toEqual(['Sign out']);
    await readerContext.close();
  });

  it('browses containers and shares: uploads and downloads 20 MiB, edits metadata, generates a SAS, and pages a long listing', async () => {
    const admin = await adminClients();
    const big = path.join(home, 'big.bin');
    fs.writeFileSync(big, crypto.randomBytes(20 * 1024 * 1024));
    const context = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(await signInLink());
    // By keyboard alone: Tab reaches the account's link and its Browse storage button, and Enter follows them.
    await tabTo(page, 'consoleacct');
    await page.keyboard.press('Enter');
    await tabTo(page, 'Browse storage');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'consoleacct: storage browser' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/accounts/rg-console/consoleacct/storage');

    // A bad container name gets the service's own message; a good one appears.
    await page.getByLabel('New container').fill('Bad_Name');
    await page.getByRole('button', { name: 'Create' }).click();
    await expect.poll(async () => page.getByRole('alert').textContent()).toMatch(/container name/i);
    await page.getByLabel('New container').fill('browse');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('button', { name: 'browse', exact: true }).click();

    // Upload 20 MiB in blocks, with a progress bar that ends full.
    await page.getByLabel('Upload files').setInputFiles(big);
    await expect.poll(async () => page.getByRole('status').filter({ hasText: /Uploaded|Failed/ }).textContent(), { timeout: 60_000 }).toBe('Uploaded');
    expect(await page.getByRole('progressbar', { name: 'Uploading big.bin' }).evaluate((bar: HTMLProgressElement) => [bar.value, bar.max])).toEqual([20 * 1024 * 1024, 20 * 1024 * 1024]);
    const stored = await admin.blobs.getContainerClient('browse').getBlobClient('big.bin').downloadToBuffer();
    expect(sha256(stored)).toBe(sha256(fs.readFileSync(big)));

    // Download it back through the browser, under its own name.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download big.bin' }).click()]);
    expect(download.suggestedFilename()).toBe('big.bin');
    expect(sha256(fs.readFileSync((await download.path())!))).toBe(sha256(fs.readFileSync(big)));

    // Properties, and metadata saved in one Set Metadata.
    await page.getByRole('button', { name: 'big.bin', exact: true }).click();
    const panel = page.getByRole('complementary', { name: 'Properties of big.bin' });
    await expect.poll(async () => panel.getByRole('row', { name: /Size/ }).textContent()).toBe(`Size (bytes)${20 * 1024 * 1024}`);
    await panel.getByRole('button', { name: 'Add metadata' }).click();
    await panel.getByLabel('Metadata name').fill('project');
    await panel.getByLabel('Metadata value').fill('console');
    await panel.getByRole('button', { name: 'Save metadata' }).click();
    await expect.poll(async () => panel.getByRole('status').textContent()).toBe('Saved');
    expect((await admin.blobs.getContainerClient('browse').getBlobClient('big.bin').getProperties()).metadata).toEqual({ project: 'console' });
    // A read-only SAS that works, with the expiry chosen, and nothing more.
    await panel.getByRole('button', { name: 'Generate SAS' }).click();
    const sasUrl = await panel.getByLabel('SAS URL').inputValue();
    expect(new URL(sasUrl).searchParams.get('sp')).toBe('r');
    const bySas = new BlobClient(sasUrl, new AnonymousCredential(), { retryOptions: { maxTries: 1 }, tlsOptions: { ca: fs.readFileSync(server.caFile) } } as StoragePipelineOptions);
    expect((await bySas.getProperties()).contentLength).toBe(20 * 1024 * 1024);
    expect(statusAndCode(await errorOf(bySas.setMetadata({ other: 'x' })))).toEqual([403, 'AuthorizationPermissionMismatch']);
    await page.screenshot({ path: path.join(SHOTS, 'storage-browser-1280.png'), fullPage: true });

    // A long folder comes a page at a time.
    const container = admin.blobs.getContainerClient('browse');
    for (let start = 0; start < 105; start += 15) {
      await Promise.all(Array.from({ length: Math.min(15, 105 - start) }, (_, i) => container.getBlockBlobClient(`many/${String(start + i).padStart(3, '0')}.txt`).upload('x', 1)));
    }
    await page.reload();
    await page.getByRole('button', { name: 'browse', exact: true }).click();
    await page.getByRole('button', { name: 'many/' }).click();
    await expect.poll(async () => page.getByRole('button', { name: /^Download / }).count()).toBe(100);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(async () => page.getByRole('button', { name: /^Download / }).count()).toBe(105);
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Delete 000.txt' }).click();
    await page.getByRole('alertdialog', { name: 'Delete many/000.txt' }).getByRole('button', { name: 'Delete 000.txt' }).click();
    await expect.poll(async () => page.getByRole('button', { name: /^Download / }).count()).toBe(100);
    expect(await container.getBlobClient('many/000.txt').exists()).toBe(false);

    // File shares: a share, a directory, and a file written in 4 MiB ranges.
    await page.getByRole('button', { name: 'File shares' }).click();
    await page.getByLabel('New share').fill('docs');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('button', { name: 'docs', exact: true }).click();
    await page.getByLabel('New directory').fill('reports');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('button', { name: 'reports/' }).click();
    const report = path.join(home, 'report.bin');
    fs.writeFileSync(report, crypto.randomBytes(9 * 1024 * 1024 + 17));
    await page.getByLabel('Upload files').setInputFiles(report);
    await expect.poll(async () => page.getByRole('status').filter({ hasText: /Uploaded|Failed/ }).textContent(), { timeout: 60_000 }).toBe('Uploaded');
    const file = admin.files.getShareClient('docs').getDirectoryClient('reports').getFileClient('report.bin');
    expect(sha256(await file.downloadToBuffer())).toBe(sha256(fs.readFileSync(report)));
    const [fileDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download report.bin' }).click()]);
    expect(sha256(fs.readFileSync((await fileDownload.path())!))).toBe(sha256(fs.readFileSync(report)));
    await page.getByRole('button', { name: 'report.bin', exact: true }).click();
    await expect.poll(async () => page.getByRole('complementary').getByRole('row', { name: /Size/ }).textContent()).toBe(`Size (bytes)${9 * 1024 * 1024 + 17}`);
    await page.screenshot({ path: path.join(SHOTS, 'storage-browser-files-1280.png'), fullPage: true });
    // Each SAS the browser asked for is in the activity log, as a listKeys is.
    const filter = encodeURIComponent(`eventTimestamp ge '${new Date(Date.now() - 600_000).toISOString()}' and resourceGroupName eq 'rg-console'`);
    const operations = await page.evaluate(
      async (url) => ((await (await fetch(url)).json()).value as { operationName: { value: string } }[]).map((event) => event.operationName.value),
      `/subscriptions/${server.subscriptionId}/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01&$filter=${filter}`,
    );
    expect(operations).toContain('Microsoft.Storage/storageAccounts/listAccountSas/action');
    expect(operations).toContain('Microsoft.Storage/storageAccounts/listServiceSas/action');
    await page.setViewportSize({ width: 480, height: 800 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: path.join(SHOTS, 'storage-browser-files-480-dark.png'), fullPage: true });
    await context.close();
  });

  it('lets the console, and no other origin, call the data plane from a browser', async () => {
    const armPort = new URL(server.arm).port;
    const blobPort = new URL(server.blob).port;
    const preflight = (origin: string) =>
      new Promise<number>((resolve, reject) => {
        const request = http.request({ host: '127.0.0.1', port: blobPort, method: 'OPTIONS', path: '/consoleacct/browse', headers: { origin, 'access-control-request-method': 'PUT' } }, (response) => {
          response.resume();
          resolve(response.statusCode!);
        });
        request.on('error', reject);
        request.end();
      });
    expect(await preflight(`https://127.0.0.1:${armPort}`)).toBe(200);
    expect(await preflight('https://elsewhere.example')).toBe(403);
    expect(await preflight(`http://127.0.0.1:${armPort}`)).toBe(403);
  });
});
