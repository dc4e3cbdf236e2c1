import fs from 'node:fs';
import type YamlModule from 'yaml';
import { CliError } from './errors.js';
import { lazyModule } from './lazy-module.js';

const yaml = lazyModule<typeof YamlModule>('yaml');

/** A YAML file's top-level mapping, with readers that refuse a bad field naming the file and the field, as az ml's schema validation does. */
export interface YamlFields {
  fields: Record<string, unknown>;
  fail(why: string): never;
  /** A string field; `undefined` when absent and not required. */
  text(name: string, required?: boolean): string | undefined;
  /** Refuses any field not in `allowed`. */
  only(allowed: string[], context?: string): void;
}

export function readYamlFile(file: string, what: string): YamlFields {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}.`);
  }
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (error) {
    throw new CliError(`${file} is not valid YAML: ${(error as Error).message.split('\n')[0]!.replace(/:$/, '')}.`);
  }
  const fail = (why: string): never => {
    throw new CliError(`${file}: ${why}`);
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail(`expected a mapping of ${what} fields.`);
  const fields = doc as Record<string, unknown>;
  return {
    fields,
    fail,
    text(name, required = false) {
      const value = fields[name];
      if (value === undefined || value === null) return required ? fail(`'${name}' is required.`) : undefined;
      if (typeof value !== 'string' || value === '') return fail(`'${name}' must be a non-empty string.`);
      return value;
    },
    only(allowed, context = '') {
      for (const key of Object.keys(fields)) {
        if (!allowed.includes(key)) fail(`unknown field '${key}'${context}; allowed: ${allowed.filter((f) => f !== '$schema').join(', ')}.`);
      }
    },
  };
}

/** A mapping of names to strings (tags, environment variables), or undefined when absent. */
export function stringMapField(yamlFields: YamlFields, name: string): Record<string, string> | undefined {
  const value = yamlFields.fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) yamlFields.fail(`'${name}' must map names to values.`);
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(value as object)) {
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') yamlFields.fail(`'${name}.${key}' must be a string.`);
    result[key] = String(item);
  }
  return result;
}
