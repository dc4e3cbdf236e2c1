import fs from 'node:fs';
import path from 'node:path';
import { MlspaceError } from './errors.js';

/** The fields of an Azure ML `config.json` that name a workspace. */
export interface WorkspaceConfig {
  subscriptionId: string;
  resourceGroup: string;
  workspaceName: string;
  /** The file they were read from. */
  file: string;
}

/** Where azureml looks in each directory, in order. */
const CANDIDATES = [path.join('.azureml', 'config.json'), 'config.json'];

/**
 * Finds config.json as azureml's `Workspace.from_config` does: `start` may be
 * the file itself or a directory; from that directory (the current one by
 * default) up to the root, `.azureml/config.json` then `config.json`.
 */
export function findWorkspaceConfig(start: string = process.cwd()): string {
  const resolved = path.resolve(start);
  if (fs.statSync(resolved, { throwIfNoEntry: false })?.isFile()) return resolved;
  for (let dir = resolved; ; dir = path.dirname(dir)) {
    for (const candidate of CANDIDATES) {
      const file = path.join(dir, candidate);
      if (fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return file;
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new MlspaceError(
    `No workspace configuration found: looked for .azureml/config.json and config.json in ${resolved} and its parents. ` +
      'Write one with {"subscription_id": …, "resource_group": …, "workspace_name": …} (mlspace account show --query id gives the subscription).',
    'WorkspaceConfigNotFound',
  );
}

export function readWorkspaceConfig(start?: string): WorkspaceConfig {
  const file = findWorkspaceConfig(start);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new MlspaceError(`${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, 'InvalidWorkspaceConfig');
  }
  const field = (name: string): string => {
    const value = (json as Record<string, unknown> | null)?.[name];
    if (typeof value !== 'string' || value === '') {
      throw new MlspaceError(`${file} must give "${name}" as a non-empty string (with subscription_id, resource_group and workspace_name).`, 'InvalidWorkspaceConfig');
    }
    return value;
  };
  return { subscriptionId: field('subscription_id'), resourceGroup: field('resource_group'), workspaceName: field('workspace_name'), file };
}
