/** Azure's rule for container and share names alike: 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit. */
const CONTAINER_OR_SHARE_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;

export function isContainerOrShareName(name: string): boolean {
  return CONTAINER_OR_SHARE_NAME.test(name);
}
