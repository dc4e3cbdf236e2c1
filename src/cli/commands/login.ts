import fs from 'node:fs';
import https from 'node:https';
import type { Command } from 'commander';
import { examples } from './common.js';
import { MANAGEMENT_SCOPE, requestToken } from '../token-source.js';
import { ArmRest } from '../arm-rest.js';
import { defaultDataDir, mlspaceHome } from '../../server/config.js';
import { readEndpoints } from '../../server/endpoints.js';
import { CliError } from '../errors.js';
import { clearLogin, configDir, loadLogin, loginEndpoints, saveLogin, storedCaFile, type StoredLogin } from '../login-store.js';
import { emit, withOutput, type OutputOptions } from '../output/options.js';

interface LoginOptions extends OutputOptions {
  servicePrincipal?: boolean;
  username?: string;
  password?: string;
  tenant?: string;
  endpoint?: string;
  authority?: string;
  caFile?: string;
  dataDir?: string;
}

/** The subscription as `az account show` prints it. */
function accountView(login: StoredLogin, endpoint: string) {
  return {
    environmentName: 'mlspace',
    id: login.subscriptionId,
    isDefault: true,
    name: 'mlspace',
    state: 'Enabled',
    tenantId: login.tenantId,
    user: { name: login.clientId, type: 'servicePrincipal' },
    managementEndpoint: endpoint,
  };
}

/** The login's management endpoint; a stopped local server has none, so its data directory stands in. */
function managementEndpoint(login: StoredLogin): string {
  try {
    return loginEndpoints(login).arm;
  } catch {
    return `local server in ${login.dataDir} (not running)`;
  }
}

/** TLS failures that mean "this server's certificate is not signed by a CA you trust". */
const UNTRUSTED = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);

/**
 * Connects to a remote endpoint before signing in, so an untrusted certificate
 * is reported as such (the identity library reports only that its metadata
 * could not be fetched).
 */
function checkTls(endpoint: string, ca: Buffer | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.request(endpoint, { method: 'HEAD', ca }, (res) => {
      res.resume();
      resolve();
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code && UNTRUSTED.has(error.code)) {
        reject(new CliError(`The certificate of ${endpoint} is not trusted (${error.code}): give the server's CA certificate with --ca-file (the server's caFile).`));
      } else reject(new CliError(`Cannot reach ${endpoint}: ${error.message}.`));
    });
    req.end();
  });
}

async function login(options: LoginOptions): Promise<void> {
  const home = mlspaceHome();
  if (options.servicePrincipal && (!options.username || !options.password)) {
    throw new CliError('--service-principal needs --username (-u, the client id) and --password (-p, the client secret).', 2);
  }
  if (!options.servicePrincipal && (options.username || options.password)) throw new CliError('--username and --password go with --service-principal.', 2);
  let stored: StoredLogin;
  let clientSecret: string;
  let authority: string;
  let arm: string;
  let caFile: string | undefined;
  if (options.endpoint) {
    if (!options.servicePrincipal || !options.tenant) {
      throw new CliError('Signing in to a remote server (--endpoint) needs --service-principal -u CLIENT_ID -p SECRET --tenant TENANT.', 2);
    }
    arm = new URL(options.endpoint).origin;
    authority = options.authority ?? arm;
    caFile = options.caFile;
    await checkTls(authority, caFile ? fs.readFileSync(caFile) : undefined);
    stored = { kind: 'remote', endpoint: arm, authority, tenantId: options.tenant, subscriptionId: '', clientId: options.username! };
    clientSecret = options.password!;
  } else {
    // The local server: its endpoints, its CA and, unless a service principal is given, its admin client.
    const dataDir = options.dataDir ?? defaultDataDir();
    const endpoints = readEndpoints(dataDir);
    const admin = options.servicePrincipal ? undefined : (JSON.parse(fs.readFileSync(endpoints.adminClientFile, 'utf8')) as { clientId: string; clientSecret: string });
    arm = endpoints.arm;
    authority = endpoints.authority;
    caFile = endpoints.caFile;
    stored = {
      kind: 'local',
      dataDir,
      tenantId: options.tenant ?? endpoints.tenantId,
      subscriptionId: endpoints.subscriptionId,
      clientId: admin?.clientId ?? options.username!,
    };
    clientSecret = admin?.clientSecret ?? options.password!;
  }
  // A token proves the credentials before anything is saved.
  const ca = caFile ? fs.readFileSync(caFile) : undefined;
  const token = await requestToken({ authority, tenantId: stored.tenantId, clientId: stored.clientId, clientSecret, ca }, MANAGEMENT_SCOPE);
  if (stored.kind === 'remote') {
    const remote = new ArmRest(arm, { token: async () => token.token }, ca);
    const subscriptions = (await remote.list<{ subscriptionId: string }>('/subscriptions?api-version=2022-12-01')).map((subscription) => subscription.subscriptionId);
    if (subscriptions.length === 0) throw new CliError(`No subscriptions are visible to client ${stored.clientId} at ${arm}.`);
    stored.subscriptionId = subscriptions[0]!;
    if (caFile) {
      // Kept with the login, so the login works even if the original file moves.
      fs.mkdirSync(configDir(home), { recursive: true, mode: 0o700 });
      fs.copyFileSync(caFile, storedCaFile(home));
      stored.caFile = storedCaFile(home);
    }
  }
  saveLogin(home, stored, clientSecret);
  emit([accountView(stored, arm)], options);
}

export function registerLogin(program: Command): void {
  withOutput(
    program
      .command('login')
      .description('Sign in to the local mlspace server (default) or, with --endpoint, to another one.')
      .option('--service-principal', 'sign in as a service principal (mlspace ad sp create) instead of the local admin client')
      .option('-u, --username <clientId>', 'the service principal\'s client id')
      .option('-p, --password <secret>', 'the service principal\'s client secret')
      .option('-t, --tenant <tenantId>', 'the tenant (default: the local server\'s)')
      .option('--endpoint <url>', 'a remote server\'s management endpoint (https://host:port)')
      .option('--authority <url>', 'the token authority of a remote server (default: its endpoint)')
      .option('--ca-file <pem>', 'a CA certificate to trust for a remote server (its caFile)')
      .option('--data-dir <dir>', 'the local server\'s data directory (default: $MLSPACE_HOME/data)'),
  )
    .addHelpText(
      'after',
      `
The login is kept in $MLSPACE_HOME/config/ (the client secret in a file only you may read).
The local server's CA is trusted without NODE_EXTRA_CA_CERTS.

Examples:
  mlspace login
  mlspace login --service-principal -u CLIENT_ID -p SECRET --tenant TENANT_ID
  mlspace login --service-principal -u CLIENT_ID -p SECRET --tenant TENANT_ID --endpoint https://mlspace.example:10443 --ca-file ca.pem`,
    )
    .action(login);

  program
    .command('logout')
    .description('Forget the stored login.')
    .action(() => {
      if (!clearLogin(mlspaceHome())) throw new CliError('There are no active accounts.');
    });

  const account = program.command('account').description('The signed-in subscription.').addHelpText('after', examples('mlspace account show --query id -o tsv'));
  withOutput(account.command('show').description('Show the subscription and identity of the stored login (never its secret).'))
    .addHelpText('after', examples('mlspace account show', 'mlspace account show --query id -o tsv'))
    .action((options: OutputOptions) => {
      const stored = loadLogin(mlspaceHome());
      if (!stored) throw new CliError("Please run 'mlspace login' to setup account.");
      emit(accountView(stored.login, managementEndpoint(stored.login)), options);
    });
}
