import fs from 'node:fs';
import https from 'node:https';

/** The slice of @azure/core-rest-pipeline's PipelinePolicy this needs, so mlspace does not depend on it. */
interface AgentPolicy {
  name: string;
  sendRequest<R extends object, T>(request: R, next: (request: R) => Promise<T>): Promise<T>;
}

export interface TrustCaOptions {
  additionalPolicies: { position: 'perCall'; policy: AgentPolicy }[];
}

/**
 * Client options that make the official Azure SDK clients trust mlspace's local
 * CA: spread them into the options of ClientSecretCredential and of every ARM
 * client (`{ endpoint, ...trustCa(caFile) }`). Each request is sent through an
 * https.Agent holding the CA, the one thing these clients let a caller choose
 * per client. (NODE_EXTRA_CA_CERTS=<caFile> does the same for a whole process,
 * but Node reads it only at start-up.)
 */
export function trustCa(caFile: string): TrustCaOptions {
  const agent = new https.Agent({ ca: fs.readFileSync(caFile), keepAlive: true });
  const policy: AgentPolicy = {
    name: 'mlspaceTrustCa',
    sendRequest(request, next) {
      (request as { agent?: https.Agent }).agent = agent;
      return next(request);
    },
  };
  return { additionalPolicies: [{ position: 'perCall', policy }] };
}
