/**
 * The part of the Reflect metadata API that tsyringe needs. @peculiar/x509 loads
 * tsyringe, which refuses to start unless `Reflect.getMetadata` exists, but x509
 * never attaches decorator metadata itself, so this small WeakMap-backed store is
 * all it takes. It defines nothing when a full polyfill (reflect-metadata) is
 * already loaded. Import this module before `@peculiar/x509`.
 */
type Target = object;
const store = new WeakMap<Target, Map<unknown, unknown>>();

interface ReflectMetadata {
  getMetadata?(key: unknown, target: Target): unknown;
  getOwnMetadata?(key: unknown, target: Target): unknown;
  defineMetadata?(key: unknown, value: unknown, target: Target): void;
}

const reflect = Reflect as typeof Reflect & ReflectMetadata;
if (typeof reflect.getMetadata !== 'function') {
  reflect.getOwnMetadata = (key, target) => store.get(target)?.get(key);
  reflect.getMetadata = (key, target) => {
    for (let current: Target | null = target; current !== null; current = Object.getPrototypeOf(current)) {
      const own = store.get(current);
      if (own?.has(key)) return own.get(key);
    }
    return undefined;
  };
  reflect.defineMetadata = (key, value, target) => {
    let own = store.get(target);
    if (!own) store.set(target, (own = new Map()));
    own.set(key, value);
  };
}
