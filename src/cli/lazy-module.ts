import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A package loaded on first use, synchronously: most commands never format
 * YAML, evaluate --query or draw a progress bar, and every command's start-up
 * would otherwise pay for loading them (tens of milliseconds each).
 */
export function lazyModule<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
