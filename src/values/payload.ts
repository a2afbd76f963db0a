// Payloads are stored as JSON text. Only plain JSON data is accepted, so that what a job receives
// is exactly what was dispatched: no silently dropped `undefined`, no Date turned into a string,
// no class instance losing its prototype.

function describePath(path: string[]): string {
  return path.length === 0 ? 'the payload' : `payload.${path.join('.')}`;
}

function check(value: unknown, path: string[], seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${describePath(path)} is ${value}: JSON has no such number`);
      return;
    case 'bigint':
      throw new TypeError(`${describePath(path)} is a BigInt: JSON cannot hold it (convert it to a string)`);
    case 'undefined':
      throw new TypeError(`${describePath(path)} is undefined: JSON would drop it silently (use null or leave the key out)`);
    case 'function':
    case 'symbol':
      throw new TypeError(`${describePath(path)} is a ${typeof value}: only plain JSON data can be a job payload`);
    case 'object': {
      if (value === null) return;
      if (seen.has(value)) throw new TypeError(`${describePath(path)} is circular: a payload must be a tree of plain data`);
      const proto = Object.getPrototypeOf(value);
      const isArray = Array.isArray(value);
      if (!isArray && proto !== Object.prototype && proto !== null) {
        const kind = (value as object).constructor?.name ?? 'object';
        throw new TypeError(
          `${describePath(path)} is a ${kind}: only plain objects, arrays, strings, numbers, booleans and null can be a job payload` +
            (value instanceof Date ? ' (pass date.toISOString())' : ''),
        );
      }
      seen.add(value);
      if (isArray)
        value.forEach((v, i) => {
          check(v, [...path, String(i)], seen);
        });
      else for (const [k, v] of Object.entries(value)) check(v, [...path, k], seen);
      seen.delete(value);
      return;
    }
  }
}

/** Validates and serialises a payload; throws TypeError naming the offending part. */
export function serializePayload(payload: unknown): string {
  check(payload, [], new Set());
  return JSON.stringify(payload);
}

/** Throws RangeError when a serialised payload is too large for the store. */
export function assertPayloadSize(json: string, maxBytes: number, storeName: string): void {
  // Byte length, not string length: the store's limit is on UTF-8 bytes.
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) {
    throw new RangeError(
      `Job payload is ${bytes} bytes of JSON, more than the ${storeName} store accepts (${maxBytes} bytes); ` +
        `store large data elsewhere and pass a reference`,
    );
  }
}
