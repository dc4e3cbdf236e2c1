import { InvalidArgumentError, Option, type Command } from 'commander';
import type jmespathModule from 'jmespath';
import { lazyModule } from '../lazy-module.js';
import { formatOutput, OUTPUT_FORMATS, toPlain, type OutputFormat } from './format.js';

export interface OutputOptions {
  output: OutputFormat;
  query?: string;
}

const jmespath = lazyModule<typeof jmespathModule>('jmespath');
// @types/jmespath declares only search(); the library also exports compile(), which parses without evaluating.
const compile = (expression: string) => (jmespath() as unknown as { compile(expression: string): unknown }).compile(expression);

/** Parses --query when the command line is read, so a bad expression fails before the command does anything. */
function parseQuery(expression: string): string {
  try {
    compile(expression);
  } catch (error) {
    throw new InvalidArgumentError(`not a JMESPath expression: ${error instanceof Error ? error.message : String(error)}`);
  }
  return expression;
}

/** Adds az's global output arguments to a command that prints a result. */
export function withOutput(command: Command): Command {
  return command
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('json'))
    .addOption(new Option('--query <jmespath>', 'JMESPath query string, applied before formatting (see https://jmespath.org)').argParser(parseQuery));
}

/**
 * Prints a command's result: to plain JSON data, through --query, in the
 * --output format. `tableRow` picks the columns of `-o table` for each item,
 * as az's per-command table transformers do, when no --query chose them.
 */
export function emit(value: unknown, options: OutputOptions, tableRow?: (item: any) => Record<string, unknown>): void {
  let data = toPlain(value);
  if (options.query !== undefined) data = jmespath().search(data ?? null, options.query);
  else if (options.output === 'table' && tableRow) data = Array.isArray(data) ? data.map(tableRow) : tableRow(data);
  process.stdout.write(formatOutput(data, options.output, Boolean(process.stdout.isTTY)));
}
