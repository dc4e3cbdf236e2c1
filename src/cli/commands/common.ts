import type { Command } from 'commander';
import type { Workspace } from '../../sdk/workspace.js';
import { withOutput, type OutputOptions } from '../output/options.js';
import { openSession, type Session } from '../session.js';

/** `-g, --resource-group`, required: az's spelling. */
export function withGroup(command: Command): Command {
  return command.requiredOption('-g, --resource-group <name>', 'name of the resource group');
}

/** Runs a lookup and turns a 404 into `undefined` (for "does it exist" checks). */
export async function orUndefined<T>(lookup: Promise<T>): Promise<T | undefined> {
  try {
    return await lookup;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

/** The "Examples:" section a command's --help ends with. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}`;
}

/** `--tags a=b c=d`, as az takes them. */
export function parseTags(values: string[] | undefined): Record<string, string> | undefined {
  if (!values) return undefined;
  return Object.fromEntries(
    values.map((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

export const TAGS_HELP = 'space-separated tags: key[=value] [key[=value] ...]';

/** The resource group in an ARM id. */
export function groupOf(id: string | undefined): string | undefined {
  return id ? /\/resourceGroups\/([^/]+)/i.exec(id)?.[1] : undefined;
}

/** The signed-in session (the official ARM clients in it load only when asked for). */
export async function session(): Promise<Session> {
  return openSession();
}

/** What every command on one workspace takes: -w and -g, and the output options. */
export interface WorkspaceScoped extends OutputOptions {
  workspaceName: string;
  resourceGroup: string;
}

/** Adds -w/--workspace-name, -g/--resource-group and the output options. */
export function withWorkspace(command: Command): Command {
  return withOutput(withGroup(command.requiredOption('-w, --workspace-name <name>', 'name of the workspace')));
}

/** The workspace through the SDK, for the commands that move files (loaded when a command runs, see session()). */
export async function workspaceOf(options: WorkspaceScoped): Promise<Workspace> {
  const { Workspace } = await import('../../sdk/workspace.js');
  return Workspace.fromClients(await (await session()).clients(), options.resourceGroup, options.workspaceName);
}

/** An asset's creation_context, as az ml prints it, from its ARM systemData. */
export function creationContext(systemData: { createdAt?: Date | string; lastModifiedAt?: Date | string } | undefined) {
  return { created_at: systemData?.createdAt, last_modified_at: systemData?.lastModifiedAt };
}
