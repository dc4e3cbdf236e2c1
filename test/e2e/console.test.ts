import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliIn } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const installed = fs.existsSync(CHROMIUM);
if (!installed) console.warn('SKIPPED: test/e2e/console.test.ts needs Chromium (Debian: apt-get install chromium), which is not installed here.');

/** Screenshots land here, to be looked at (the last run's are kept). */
const SHOTS = path.join(os.tmpdir(), 'mlspace-console-screenshots');

let server: TestServer;
let browser: Browser;
let home: string;
let cli: ReturnType<typeof cliIn>;

beforeAll(async () => {
  if (!installed) return;
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-console-'));
  server = await startTestServer({ dataDir: path.join(home, 'data') });
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
    await page.screenshot({ path: path.join(SHOTS, 'account-1280.png'), fullPage: true });
    // Rotate: the plan first, then the rotation, followed to its end; the consumers then hold the kept key.
    await page.getByRole('button', { name: 'Plan a rotation' }).click();
    const planned = (await page.locator('.plan').textContent())!;
    const [, retired, kept] = /Retires (key[12]) and keeps (key[12])/.exec(planned)!;
    await page.getByRole('button', { name: `Rotate ${retired} now` }).click();
    await expect.poll(async () => page.locator('.rotation').textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^Succeeded Rotation of ${retired}`));
    await expect.poll(async () => (await consumerRows.allInnerTexts()).every((text) => new RegExp(`\\b${kept}\\b`).test(text))).toBe(true);
    // The keys shown before are stale now: hidden again.
    expect(await page.locator('code.secret').count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'account-rotated-1280.png'), fullPage: true });
    // A rotation started elsewhere (the CLI) appears too.
    const cliRotation = await cli('storage', 'account', 'keys', 'rotate', '-g', 'rg-console', '-n', 'consoleacct', '--key', kept === 'key1' ? 'primary' : 'secondary', '-o', 'none');
    expect(cliRotation.code, cliRotation.stderr).toBe(0);
    await expect.poll(async () => page.locator('.rotation').textContent(), { timeout: 30_000 }).toMatch(new RegExp(`^Succeeded Rotation of ${kept}`));

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
    await page.getByRole('link', { name: 'consoleacct' }).click();
    await page.getByRole('heading', { name: 'Consumers' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'account-480-dark.png'), fullPage: true });
    await page.getByRole('link', { name: 'Activity log' }).click();
    await page.getByRole('heading', { name: 'Activity log' }).waitFor();
    await page.getByRole('row').nth(1).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'activity-480-dark.png') });
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

  it('shows each workspace\'s datastores, and which of them a renewed key left stale', async () => {
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

    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(await signInLink());
    await page.getByRole('link', { name: 'Workspaces' }).click();
    await page.getByRole('heading', { name: /^wsview/ }).waitFor();
    const wsview = page.getByRole('region', { name: 'wsview' });
    const cells = async (name: string) => (await wsview.getByRole('row', { name: new RegExp(`^${name}`) }).getByRole('cell').allInnerTexts()).map((text) => text.trim());
    await expect.poll(async () => cells('userdata')).toEqual(['userdata', 'AzureBlob', 'wsacct', 'data', 'AccountKey', 'stale — re-register it']);
    await expect.poll(async () => (await cells('workspaceblobstore')).at(-1)).toMatch(/works/);
    await page.screenshot({ path: path.join(SHOTS, 'workspaces-1280.png'), fullPage: true });

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
    await context.close();
  });
});
