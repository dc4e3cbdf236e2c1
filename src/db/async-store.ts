/**
 * A metadata store as the rest of the server sees it: every method answers a
 * promise, since a dialect may answer from another process (PostgreSQL). The
 * SQLite dialect answers at once; its repositories stay synchronous inside,
 * so each method is one transaction that nothing can interleave with.
 */
export type AsyncStore<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/**
 * The asynchronous face of a synchronous repository: one wrapper per method,
 * made once, so a call costs a resolved promise and nothing more. A throw
 * becomes a rejection, as it would from a remote store.
 */
export function asyncStore<T extends object>(repo: T): AsyncStore<T> {
  const store: Record<string, unknown> = {};
  for (let proto = Object.getPrototypeOf(repo); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      // The descriptor, not the property: reading an accessor here would run it.
      const method: unknown = Object.getOwnPropertyDescriptor(proto, name)?.value;
      if (name === 'constructor' || name in store || typeof method !== 'function') continue;
      store[name] = (...args: unknown[]) => {
        try {
          return Promise.resolve(method.apply(repo, args));
        } catch (error) {
          return Promise.reject(error);
        }
      };
    }
  }
  return store as AsyncStore<T>;
}
