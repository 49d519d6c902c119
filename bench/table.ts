/** Plain-text and markdown tables: first column left-aligned, the rest right-aligned (numbers). */

export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  const rule = `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** A target as a bench evaluates it: what was asked, what was measured, whether it held. */
interface JudgedTarget {
  readonly description: string;
  readonly measured: string;
  readonly pass: boolean;
}

/** Table rows of judged targets: description, measured, PASS or MISS. */
export function passMissRows(targets: readonly JudgedTarget[]): string[][] {
  return targets.map((t) => [t.description, t.measured, t.pass ? 'PASS' : 'MISS']);
}

const TARGET_HEADER: readonly string[] = ['target', 'measured', 'result'];

/** The closing `targets` section of a bench's text output. */
export function targetsText(rows: readonly (readonly string[])[]): string {
  return ['targets', textTable(TARGET_HEADER, rows)].join('\n');
}

/** The closing `## targets` section of a bench's markdown output. */
export function targetsMarkdown(rows: readonly (readonly string[])[]): string {
  return ['## targets', '', markdownTable(TARGET_HEADER, rows)].join('\n');
}
