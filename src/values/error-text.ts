// What is kept of a job's error in the store.

/** Most characters of an error (message and stack) kept with a job: a stack trace fits many times over. */
const MAX_ERROR_CHARS = 16_384;

/** An error text as stored: a job that throws a megabyte of text does not get to write it into every store write. */
export function capErrorText(text: string): string {
  return text.length <= MAX_ERROR_CHARS ? text : `${text.slice(0, MAX_ERROR_CHARS)}… (${text.length - MAX_ERROR_CHARS} more characters cut)`;
}
