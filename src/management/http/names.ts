/** ARM compares names (subscriptions, groups, workspaces, locations, types) without regard to case. */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
