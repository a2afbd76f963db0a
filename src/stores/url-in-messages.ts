// Store URLs in messages. They carry passwords; every message and log line shows them masked. The password is
// everything between the user's ':' and the last '@' of the authority, so one holding '@' or
// '/' (not percent-encoded, which URL parsers then refuse or split wrongly) is masked whole.

/** `scheme://user:***@host…`; a URL without a password is returned as it is. */
export function maskUrlPassword(text: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text);
  if (!scheme) return text;
  const rest = text.slice(scheme[0].length);
  const end = rest.search(/[?#]/);
  const at = (end < 0 ? rest : rest.slice(0, end)).lastIndexOf('@');
  if (at < 0) return text;
  const colon = rest.indexOf(':');
  if (colon < 0 || colon > at) return text;
  return `${scheme[0]}${rest.slice(0, colon)}:***${rest.slice(at)}`;
}

/** True when the URL's host is this machine: only then can a message say how to start the server here. */
export function isLocalUrl(text: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]', '::1', ''].includes(new URL(text).hostname);
  } catch {
    return false;
  }
}

/** The hint for a URL the parser refused: the usual cause is an unencoded character in the password. */
export const URL_ENCODING_HINT = "characters such as '/', '@', '#', '?' or '%' in a user name or password must be percent-encoded (e.g. '/' as %2F)";
