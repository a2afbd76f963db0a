import { InvalidInputError } from '../errors.js';
import type { JobId } from '../stores/store.js';
export { formatAge } from '../values/age.js';

// Output helpers of the operator commands: aligned tables, short ages and sizes, UTC times.
// Plain text on purpose: the same bytes on a terminal, in a pipe and in the README.

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function table(header: string[], rows: string[][], indent = ''): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  if (n < 1024 * 1024 * 1024) return `${Math.round(n / 1048576)} MB`;
  return `${(n / 1073741824).toFixed(1)} GB`;
}

/** 2025-01-31 17:04:05 (UTC, to the second). */
export function formatTime(d: Date | null): string {
  return d ? d.toISOString().replace('T', ' ').slice(0, 19) : '-';
}

/** The first line of an error, cut to `max` characters. */
export function firstLine(text: string | null, max: number): string {
  const line = (text ?? '').split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, Math.max(1, max - 1))}…` : line;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Job ids from the command line: positive whole numbers, each named when it is not one. */
export function parseJobIds(values: string[]): JobId[] {
  return [
    ...new Set(
      values.map((v) => {
        const n = Number(v);
        if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1) {
          throw new InvalidInputError(`Invalid job id '${v}': ids are whole numbers from 1 up`);
        }
        return n;
      }),
    ),
  ];
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
