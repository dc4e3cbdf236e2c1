import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';

export interface Heading {
  label: string;
  /** A column of numbers, aligned right. */
  num?: boolean;
}

/**
 * A table whose rows become blocks of labelled lines on a narrow window
 * (styles.css, table.stack) instead of running past its edge. Each cell gets its
 * column's heading as `data-label` here, after every render, so the rows'
 * markup need not repeat the headings; a cell spanning columns gets none.
 */
export function StackTable({ headings, children }: { headings: Heading[]; children: ComponentChildren }) {
  const table = useRef<HTMLTableElement>(null);
  useLayoutEffect(() => {
    for (const row of Array.from(table.current?.tBodies[0]?.rows ?? [])) {
      let column = 0;
      for (const cell of Array.from(row.cells)) {
        cell.dataset.label = cell.colSpan > 1 ? '' : (headings[column]?.label ?? '');
        column += cell.colSpan;
      }
    }
  });
  return (
    <table class="stack" ref={table}>
      <thead>
        <tr>
          {headings.map((heading) => (
            <th key={heading.label} class={heading.num ? 'num' : undefined}>
              {heading.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
