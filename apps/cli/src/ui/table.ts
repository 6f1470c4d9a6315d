/** A cell of a table: its text, and a style (colour) applied after the text is fitted. */
export interface Cell {
  text: string;
  style?: (text: string) => string;
}

export interface Column {
  header: string;
  /** Right-aligned (numbers). */
  align?: 'left' | 'right';
  /**
   * How much this column gives up when the table is too wide: columns with a higher `shrink`
   * are cut first (default 1); 0 never shrinks below its natural width unless nothing else can.
   */
  shrink?: number;
  /** Never narrower than this (default: 3, or the width of a word like "-"). */
  min?: number;
}

const GAP = 2;
const ELLIPSIS = '…';

/** Text cut to `width` characters, ending with an ellipsis when it was cut. Pure. */
export function truncate(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  if (width <= 0) return '';
  if (width === 1) return ELLIPSIS;
  return chars.slice(0, width - 1).join('') + ELLIPSIS;
}

const len = (text: string) => Array.from(text).length;

/**
 * The width of each column so that the table fits in `maxWidth` characters: natural widths (the
 * widest cell or header) when they fit; else the columns that may shrink most give up characters
 * first, the widest of them first, down to their minimum. Pure.
 */
export function columnWidths(columns: Column[], rows: string[][], maxWidth: number): number[] {
  const natural = columns.map((c, i) => Math.max(len(c.header), ...rows.map((r) => len(r[i] ?? ''))));
  const widths = [...natural];
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP * (columns.length - 1);
  if (!Number.isFinite(maxWidth) || total() <= maxWidth) return widths;
  const minOf = (i: number) => Math.min(natural[i], columns[i].min ?? Math.max(3, Math.min(len(columns[i].header), 8)));
  const levels = [...new Set(columns.map((c) => c.shrink ?? 1))].sort((a, b) => b - a);
  for (const level of [...levels, -1]) {
    // The last pass (-1) lets every column shrink, when the preferred ones were not enough.
    const shrinkable = columns.map((c, i) => i).filter((i) => level === -1 || (columns[i].shrink ?? 1) === level);
    while (total() > maxWidth) {
      let widest = -1;
      for (const i of shrinkable) if (widths[i] > minOf(i) && (widest < 0 || widths[i] > widths[widest])) widest = i;
      if (widest < 0) break;
      widths[widest]--;
    }
    if (total() <= maxWidth) break;
  }
  return widths;
}

/**
 * The table as lines: a header, then one line per row, columns two spaces apart, sized to
 * `maxWidth` (Infinity: never cut). Cells that do not fit end with "…". The header is styled with
 * `headerStyle`. Trailing spaces are trimmed. Pure.
 */
export function renderTable(
  columns: Column[],
  rows: Array<Array<string | Cell>>,
  maxWidth: number,
  headerStyle: (text: string) => string = (t) => t,
): string[] {
  const cells: Cell[][] = rows.map((r) => columns.map((_, i) => (typeof r[i] === 'string' ? { text: r[i] as string } : ((r[i] as Cell | undefined) ?? { text: '' }))));
  const widths = columnWidths(
    columns,
    cells.map((r) => r.map((c) => c.text)),
    maxWidth,
  );
  const line = (values: Cell[], style?: (t: string) => string) =>
    values
      .map((cell, i) => {
        const fitted = truncate(cell.text, widths[i]);
        const pad = ' '.repeat(Math.max(0, widths[i] - len(fitted)));
        const styled = (style ?? cell.style ?? ((t: string) => t))(fitted);
        return columns[i].align === 'right' ? pad + styled : i === values.length - 1 ? styled : styled + pad;
      })
      .join(' '.repeat(GAP))
      .replace(/\s+$/, '');
  return [line(columns.map((c) => ({ text: c.header })), headerStyle), ...cells.map((r) => line(r))];
}
