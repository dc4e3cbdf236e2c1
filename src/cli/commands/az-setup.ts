import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { defaultDataDir } from '../../server/config.js';
import { readEndpoints } from '../../server/endpoints.js';
import { CliError } from '../errors.js';
import { examples } from './common.js';

/**
 * Sets the real az CLI up for a local server: a cloud of its own (az reads the
 * authority and token audience from the server's /metadata/endpoints), a CA
 * bundle az trusts, and the az login line. az-teardown undoes it.
 */

/** Where the system's CAs are on Debian and most Linux systems; the bundle az trusts starts with them. */
const SYSTEM_CAS = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];

interface SetupOptions {
  dataDir?: string;
  name: string;
}

function az(args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync('az', [...args, '--only-show-errors'], { encoding: 'utf8', env });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new CliError("The az CLI is not installed or not on PATH. Install it (Debian: 'apt-get install azure-cli') and run this again.");
  }
  if (result.status !== 0) throw new CliError(`az ${args.slice(0, 3).join(' ')} failed: ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}

/** The CAs az should trust: those it trusts now (REQUESTS_CA_BUNDLE, else the system's) and this server's. */
function writeBundle(dataDir: string, caFile: string): string {
  const current = process.env.REQUESTS_CA_BUNDLE;
  const base = current && fs.existsSync(current) ? current : SYSTEM_CAS.find((file) => fs.existsSync(file));
  const bundle = path.join(dataDir, 'tls', 'az-ca-bundle.pem');
  const parts = [base ? fs.readFileSync(base, 'utf8') : '', fs.readFileSync(caFile, 'utf8')];
  fs.writeFileSync(bundle, parts.map((part) => part.trimEnd()).filter(Boolean).join('\n') + '\n', { mode: 0o644 });
  return bundle;
}

function setup(options: SetupOptions): void {
  const dataDir = path.resolve(options.dataDir ?? defaultDataDir());
  const endpoints = readEndpoints(dataDir);
  const bundle = writeBundle(dataDir, endpoints.caFile);
  const env = { ...process.env, REQUESTS_CA_BUNDLE: bundle };
  const registered = (JSON.parse(az(['cloud', 'list', '--query', '[].name', '-o', 'json'], env)) as string[]).includes(options.name);
  // az's data commands given --account-name alone go to https://ACCOUNT.{blob,file}.SUFFIX: the Blob service's TLS
  // port, which serves both services by host name. The Python SDK finds the account name in a File URL only
  // before '.file.core.', hence core.localhost (as Azure's core.windows.net).
  const suffix = `core.localhost:${new URL(endpoints.blobHttps).port}`;
  az(['cloud', registered ? 'update' : 'register', '-n', options.name, '--endpoint-resource-manager', endpoints.arm, '--suffix-storage-endpoint', suffix], env);
  az(['cloud', 'set', '-n', options.name], env);
  const secret = `"$(python3 -c 'import json; print(json.load(open("${endpoints.adminClientFile}"))["clientSecret"])')"`;
  const clientId = (JSON.parse(fs.readFileSync(endpoints.adminClientFile, 'utf8')) as { clientId: string }).clientId;
  process.stdout.write(
    [
      `az now uses the cloud '${options.name}' (${endpoints.arm}). In each shell that runs az, trust the server's CA, then sign in:`,
      '',
      `  export REQUESTS_CA_BUNDLE=${bundle}`,
      // -p=SECRET, not -p SECRET: az would read a secret that starts with '-' as an option.
      `  az login --service-principal -u ${clientId} -p=${secret} --tenant ${endpoints.tenantId}`,
      '',
      `The bundle holds the CAs az trusted before and the server's. Undo with 'mlspace az-teardown'.`,
      `Data commands given --account-name alone reach https://ACCOUNT.blob.${suffix}; where *.localhost does not resolve,`,
      `add each account's names to /etc/hosts: 127.0.0.1 ACCOUNT.blob.core.localhost ACCOUNT.file.core.localhost`,
      '',
    ].join('\n'),
  );
}

function teardown(options: SetupOptions): void {
  const clouds = JSON.parse(az(['cloud', 'list', '--query', '[].{name:name, active:isActive}', '-o', 'json'])) as { name: string; active: boolean }[];
  const cloud = clouds.find((candidate) => candidate.name === options.name);
  if (!cloud) throw new CliError(`az has no cloud named '${options.name}'; nothing to undo.`);
  if (cloud.active) az(['cloud', 'set', '-n', 'AzureCloud']);
  az(['cloud', 'unregister', '-n', options.name]);
  const bundle = path.join(path.resolve(options.dataDir ?? defaultDataDir()), 'tls', 'az-ca-bundle.pem');
  fs.rmSync(bundle, { force: true });
  process.stdout.write(`Removed the cloud '${options.name}' from az${cloud.active ? ', which uses AzureCloud again' : ''}. Unset REQUESTS_CA_BUNDLE if you exported it.\n`);
}

export function registerAzSetup(program: Command): void {
  program
    .command('az-setup')
    .description("Set the real az CLI up for this server: register and select a cloud for it, write a CA bundle az trusts, and print the az login line.")
    .option('--data-dir <dir>', 'the local server whose endpoints to use (default: $MLSPACE_HOME/data)', undefined)
    .option('--name <cloud>', 'the name of the cloud in az', 'mlspace')
    .addHelpText('after', examples('mlspace az-setup', 'mlspace az-setup --data-dir /srv/mlspace --name lab'))
    .action((options: SetupOptions) => setup(options));
  program
    .command('az-teardown')
    .description('Undo az-setup: select AzureCloud again, unregister the cloud, and remove the CA bundle.')
    .option('--data-dir <dir>', 'the local server az-setup used (default: $MLSPACE_HOME/data)', undefined)
    .option('--name <cloud>', 'the name of the cloud in az', 'mlspace')
    .addHelpText('after', examples('mlspace az-teardown'))
    .action((options: SetupOptions) => teardown(options));
}
