// Ages and retentions as people write them: 45s, 12m 5s, 3h 20m, 2d 4h, 30d.

/** 45s, 12m 5s, 3h 20m, 2d 4h: the two largest units. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [unit, size] of units) {
    if (parts.length === 2) break;
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n}${unit}`);
  }
  if (parts.length === 0) return '0s';
  return parts[1]?.startsWith('0') ? parts[0]! : parts.join(' ');
}
