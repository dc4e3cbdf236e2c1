import { type ArmError, armErrors } from './errors.js';

type Json = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const MAX_TAGS = 50;

/**
 * Typed reads of a JSON request body, each naming the full path of a field
 * whose value has the wrong type (`properties.allowSharedKeyAccess must be a
 * boolean, not a string`), so a client's mistake gets a precise 400.
 */
export class Fields {
  constructor(
    readonly raw: Json,
    private readonly prefix = '',
  ) {}

  path(name: string): string {
    return this.prefix + name;
  }

  private wrongType(name: string, expected: string): ArmError {
    return armErrors.invalidContent(`'${this.path(name)}' must be ${expected}, not ${describe(this.raw[name])}.`);
  }

  private missing(name: string, expected: string): ArmError {
    return armErrors.invalidContent(`'${this.path(name)}' is required and must be ${expected}.`);
  }

  string(name: string): string | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw this.wrongType(name, 'a string');
    return value;
  }

  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw this.missing(name, 'a non-empty string');
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw this.wrongType(name, 'a boolean (true or false)');
    return value;
  }

  integer(name: string, min: number, max: number): number | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw this.wrongType(name, `an integer from ${min} to ${max}`);
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], caseInsensitive = false): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const found = allowed.find((candidate) => (caseInsensitive ? candidate.toLowerCase() === value.toLowerCase() : candidate === value));
    if (found === undefined) {
      throw armErrors.invalidContent(`'${this.path(name)}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got '${value}'.`);
    }
    return found;
  }

  object(name: string): Fields | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) throw this.wrongType(name, 'an object');
    return new Fields(value as Json, `${this.path(name)}.`);
  }

  requiredObject(name: string): Fields {
    const object = this.object(name);
    if (!object) throw this.missing(name, 'an object');
    return object;
  }

  /** A map of string values, such as `tags` or asset `properties`, within Azure's limits for tags. */
  stringMap(name: string): Record<string, string> | undefined {
    const map = this.object(name);
    if (!map) return undefined;
    const entries = Object.entries(map.raw);
    if (entries.length > MAX_TAGS) throw armErrors.invalidContent(`'${this.path(name)}' has ${entries.length} entries; at most ${MAX_TAGS} are allowed.`);
    const result: Record<string, string> = {};
    for (const [key, value] of entries) {
      if (typeof value !== 'string') throw map.wrongType(key, 'a string');
      if (key.length === 0 || key.length > 512 || value.length > 256) {
        throw armErrors.invalidContent(`'${map.path(key)}': names must be 1-512 characters and values at most 256 characters.`);
      }
      result[key] = value;
    }
    return result;
  }
}
