// Payload types: a payload is stored as JSON, so its type may hold only what JSON holds. Checked
// by the compiler here, and at run time by serializePayload (payload.ts) for untyped callers.

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * T itself when it is plain JSON data (a mapped type, as a type parameter's constraint must not
 * be a conditional type on itself: `P extends JsonPayload<P>`); otherwise T with each part JSON cannot hold replaced by a
 * text saying why, so `Job<{ at: Date }>` fails to compile with an error that names the Date.
 * Written as a mapped type rather than "T extends JsonValue" so that interfaces qualify too
 * (an interface has no index signature, so it is never assignable to JsonObject).
 * `undefined` is let through for optional keys: a key left out is fine, and an explicit
 * `undefined` value is refused by dispatch at run time.
 */
export type JsonPayload<T> = { [K in keyof T]: JsonPart<T[K]> };

// `unknown` is refused (it may hold anything), `any` is let through (it opts out of checking).
// JsonValue next: it ends the recursion at once for types already written in JSON terms.
type JsonPart<T> = unknown extends T
  ? 0 extends 1 & T
    ? T
    : 'unknown may hold what JSON cannot: give the type, or use JsonValue'
  : T extends JsonValue | undefined
    ? T
    : T extends bigint
      ? 'a BigInt is not JSON: pass it as a string'
      : T extends symbol
        ? 'a symbol is not JSON'
        : T extends (...args: never[]) => unknown
          ? 'a function is not JSON'
          : T extends Date
            ? 'a Date is not JSON: pass date.toISOString()'
            : T extends ReadonlyMap<unknown, unknown> | ReadonlySet<unknown>
              ? 'a Map or Set is not JSON: pass an object or an array'
              : T extends object
                ? JsonPayload<T>
                : never;

/** dispatch()'s arguments: the payload may be left out only when an empty object is a valid payload (the job then receives {}). */
export type DispatchArgs<P, O> = Record<string, never> extends P ? [payload?: P, options?: O] : [payload: P, options?: O];
