// Turns scenario results into target verdicts and the markdown the README quotes.
import { SERVER_LABELS } from './servers.mjs';

/**
 * Each target of `scenario` with its measured value (a ratio when it compares two
 * servers) and verdict: pass is true or false, or undefined for an informational target.
 */
export function evaluateTargets(scenario, rows) {
  return scenario.targets.map((target) => {
    const row = rows.find((r) => r.id === target.row);
    const other = target.vsRow && rows.find((r) => r.id === target.vsRow);
    const measured = other ? row.values[target.of] / other.values[target.of] : target.vs ? row.values[target.of] / row.values[target.vs] : row.values[target.of];
    return { ...target, label: other ? `${row.label} vs ${other.label}` : row.label, unit: row.unit, measured, pass: verdict(target, measured) };
  });
}

function verdict(target, measured) {
  if ('atLeast' in target) return measured >= target.atLeast;
  if ('atMost' in target) return measured <= target.atMost;
  if ('below' in target) return measured < target.below;
  return undefined;
}

/** The one-line description of a target, for the table and the failure message. */
export function describeTarget(target) {
  const servers = target.vs ? `${SERVER_LABELS[target.of]} vs ${SERVER_LABELS[target.vs]}` : SERVER_LABELS[target.of];
  return `${target.label}: ${servers}`;
}

/** One table of measurements (a column per server) and one of targets. */
export function markdown(results) {
  const servers = Object.keys(SERVER_LABELS).filter((name) => results.some((r) => r.rows.some((row) => name in row.values)));
  const lines = [
    `| Benchmark | Unit | ${servers.map((s) => SERVER_LABELS[s]).join(' | ')} |`,
    `|---|---|${servers.map(() => '---:').join('|')}|`,
  ];
  for (const result of results) {
    for (const row of result.rows) {
      lines.push(`| ${row.label}${result.pinned ? ' (one core each)' : ''} | ${row.unit} | ${servers.map((s) => (s in row.values ? number(row.values[s]) : '–')).join(' | ')} |`);
    }
  }
  lines.push('', '| Target | Measured | Required | Result |', '|---|---:|---:|---|');
  for (const target of results.flatMap((r) => r.targets)) {
    const result = target.pass === undefined ? 'informational' : target.pass ? 'PASS' : '**FAIL**';
    lines.push(`| ${describeTarget(target)} | ${measured(target, target.measured)} | ${required(target)} | ${result} |`);
  }
  return lines.join('\n');
}

function required(target) {
  if ('atLeast' in target) return `≥ ${measured(target, target.atLeast)}`;
  if ('atMost' in target) return `≤ ${measured(target, target.atMost)}`;
  if ('below' in target) return `< ${measured(target, target.below)}`;
  return '–';
}

/** A fraction of the bare ceiling reads best as a percentage, a speed-up as a multiple, anything else in its unit. */
function measured(target, value) {
  if (target.vs === 'bare') return `${Math.round(value * 100)}%`;
  if (target.vsRow) return `${value.toFixed(2)}×`;
  if (target.vs) return `${value.toFixed(1)}×`;
  return `${number(value)} ${target.unit}`;
}

function number(value) {
  return value.toLocaleString('en-US', { maximumFractionDigits: value < 100 ? 1 : 0 });
}
