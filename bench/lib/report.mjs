// Turns scenario results into target verdicts and the markdown the README quotes.
import { SERVER_LABELS } from './servers.mjs';

/** Each target of `scenario` with its measured ratio and verdict. */
export function evaluateTargets(scenario, rows) {
  return scenario.targets.map((target) => {
    const row = rows.find((r) => r.id === target.row);
    const ratio = row.values[target.of] / row.values[target.vs];
    return { ...target, label: row.label, ratio, pass: ratio >= target.atLeast };
  });
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
      lines.push(`| ${row.label} | ${row.unit} | ${servers.map((s) => (s in row.values ? number(row.values[s]) : '–')).join(' | ')} |`);
    }
  }
  lines.push('', '| Target | Measured | Required | Result |', '|---|---:|---:|---|');
  for (const target of results.flatMap((r) => r.targets)) {
    const what = `${target.label}: ${SERVER_LABELS[target.of]} vs ${SERVER_LABELS[target.vs]}`;
    lines.push(`| ${what} | ${ratio(target.ratio, target.atLeast)} | ≥ ${ratio(target.atLeast, target.atLeast)} | ${target.pass ? 'PASS' : '**FAIL**'} |`);
  }
  return lines.join('\n');
}

function number(value) {
  return value.toLocaleString('en-US', { maximumFractionDigits: value < 100 ? 1 : 0 });
}

/** A fraction of a ceiling reads best as a percentage, a speed-up as a multiple. */
function ratio(value, atLeast) {
  return atLeast < 1 ? `${Math.round(value * 100)}%` : `${value.toFixed(1)}×`;
}
