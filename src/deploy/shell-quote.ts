// For the commands printed after an install: POSIX sh single quotes, so a path with spaces,
// '$' or a backslash pastes as it is.
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
