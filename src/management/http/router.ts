import { ArmError } from './errors.js';

/**
 * A table of routes: method + path pattern → handler. Patterns are ARM paths with
 * `{name}` placeholders for one segment each, and a leading `{*name}` for any
 * run of segments (an extension resource's scope, as in `{*scope}/providers/
 * Microsoft.Authorization/roleAssignments`; empty at the tenant). Literal
 * segments match without regard to case, as ARM matches them (the SDKs send both
 * `resourceGroups` and `resourcegroups`).
 */
export interface RouteSpec {
  method: string;
  pattern: string;
}

interface CompiledRoute<R> {
  route: R;
  method: string;
  regex: RegExp;
  names: string[];
}

export interface RouteMatch<R> {
  route: R;
  params: Record<string, string>;
}

export class Router<R extends RouteSpec> {
  private readonly routes: CompiledRoute<R>[];

  constructor(routes: R[]) {
    this.routes = routes.map((route) => {
      const names: string[] = [];
      const source = route.pattern
        .split('/')
        .map((segment, index) => {
          const run = index === 0 ? /^\{\*(\w+)\}$/.exec(segment) : null;
          if (run) {
            names.push(run[1]!);
            return '(|/.*?)';
          }
          const placeholder = /^\{(\w+)\}$/.exec(segment);
          if (!placeholder) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(placeholder[1]!);
          return '([^/]+)';
        })
        .join('/');
      return { route, method: route.method, regex: new RegExp(`^${source}/?$`, 'i'), names };
    });
  }

  /** The route for this method and path (HEAD falls back to GET); a path that exists with other methods is 405, an unknown path 404. */
  match(method: string, path: string): RouteMatch<R> {
    const candidates = this.routes.filter((compiled) => compiled.regex.test(path));
    const compiled =
      candidates.find((candidate) => candidate.method === method) ??
      (method === 'HEAD' ? candidates.find((candidate) => candidate.method === 'GET') : undefined);
    if (compiled) {
      const found = compiled.regex.exec(path)!;
      const params: Record<string, string> = {};
      compiled.names.forEach((name, i) => (params[name] = decodeSegment(found[i + 1]!)));
      return { route: compiled.route, params };
    }
    if (candidates.length > 0) {
      const allowed = [...new Set(candidates.map((candidate) => candidate.method))].join(', ');
      throw new ArmError(405, 'MethodNotAllowed', `The method '${method}' is not allowed on this resource; use ${allowed}.`, { allow: allowed });
    }
    throw new ArmError(
      404,
      'InvalidResourceType',
      `No management operation matches '${path}'. Check the resource path (subscriptions, resource groups, Microsoft.Storage/storageAccounts, Microsoft.MachineLearningServices/workspaces).`,
    );
  }
}

function decodeSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw new ArmError(400, 'InvalidRequestUri', `The path segment '${segment}' is not valid percent-encoded UTF-8.`);
  }
  // No resource name holds one, and PostgreSQL text cannot even be compared with one.
  if (/[\u0000-\u001f\u007f]/.test(decoded)) {
    throw new ArmError(400, 'InvalidRequestUri', `The path segment '${segment}' holds a control character, which no resource name may contain.`);
  }
  return decoded;
}
