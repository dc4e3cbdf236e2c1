export { startServer, type RunningServer } from './server/server.js';
export type { ServerConfig } from './server/config.js';
export { trustCa, type TrustCaOptions } from './client/trust-ca.js';
export * from './sdk/index.js';
