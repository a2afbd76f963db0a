import { InvalidInputError } from '../errors.js';
import { assertHandlerName, assertQueueName } from './names.js';

// Coexistence with Lightpack, the PHP system this runtime ports, on one MySQL `jobs` table:
// which queues PHP workers run (runtimes never claim, prune or pause them, and nothing is
// dispatched to them from Node), and which PHP classes Node has taken over (their PHP-dispatched
// rows run under jobs-runtime, as the mapped job file).

/** As written in jobs.config.* (`lightpack: { … }`). */
export interface LightpackConfig {
  /** Queues PHP workers run (`php console jobs:run --queue=…`). */
  queues?: string[];
  /** The PHP namespace of job classes (default 'App\\Jobs\\'): `map` keys without a backslash are in it. */
  namespace?: string;
  /** PHP class (full name, or relative to `namespace`) → the Node job file's handler that runs its rows. */
  map?: Record<string, string>;
}

/** The setting, checked: what every command honours. */
export interface LightpackSetting {
  queues: string[];
  /** Handler as Lightpack stores it (`App\Jobs\SendMail`) → Node handler (`SendMail`, `mail/SendMail`). */
  map: Map<string, string>;
}

export const DEFAULT_PHP_NAMESPACE = 'App\\Jobs\\';

/** Lightpack stores a job's fully qualified PHP class name; a Node handler can never hold a backslash. */
export function isPhpClassName(handler: string): boolean {
  return handler.includes('\\');
}

/** Checks the setting from `where` (a file name or a CLI option), naming the bad part. */
export function resolveLightpack(raw: unknown, where: string): LightpackSetting {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidInputError(`${where}: lightpack must be an object like { queues: ['php'], map: { SendMail: 'SendMail' } }`);
  }
  const known = new Set(['queues', 'namespace', 'map']);
  for (const k of Object.keys(raw))
    if (!known.has(k)) throw new InvalidInputError(`${where}: unknown lightpack setting '${k}' (known: queues, namespace, map)`);
  const r = raw as LightpackConfig;
  const queues = r.queues ?? [];
  if (!Array.isArray(queues)) throw new InvalidInputError(`${where}: lightpack.queues must be a list of queue names, like ['php']`);
  for (const q of queues) {
    try {
      assertQueueName(q);
    } catch (e) {
      throw new InvalidInputError(`${where}: lightpack.queues: ${(e as Error).message}`);
    }
  }
  let ns = r.namespace ?? DEFAULT_PHP_NAMESPACE;
  if (typeof ns !== 'string') throw new InvalidInputError(`${where}: lightpack.namespace must be a string like 'App\\\\Jobs\\\\'`);
  ns = ns.replace(/^\\+/, '');
  if (ns !== '' && !ns.endsWith('\\')) ns += '\\';
  const map = new Map<string, string>();
  for (const [cls, handler] of Object.entries(r.map ?? {})) {
    const stored = cls.replace(/^\\+/, '');
    const full = isPhpClassName(stored) ? stored : ns + stored;
    try {
      assertHandlerName(handler);
    } catch (e) {
      throw new InvalidInputError(`${where}: lightpack.map['${cls}']: ${(e as Error).message}`);
    }
    map.set(full, handler);
  }
  return { queues: [...new Set(queues)], map };
}

/** `--lightpack-map 'App\Jobs\SendMail=SendMail,Charge=billing/Charge'` as a map object. */
export function parseMapOption(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new InvalidInputError(`Invalid --lightpack-map entry '${part}': write PhpClass=NodeHandler, e.g. 'App\\Jobs\\SendMail=SendMail'`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** Dispatching a Node job to a PHP queue would kill the PHP worker that takes it (it cannot resolve the class). */
export function assertNotPhpQueue(queue: string, setting: LightpackSetting | undefined, handler: string): void {
  if (!setting?.queues.includes(queue)) return;
  throw new InvalidInputError(
    `Queue '${queue}' is run by Lightpack's PHP workers (lightpack.queues): a ${handler} job there would crash the PHP worker that takes it ` +
      `(Class "${handler}" does not exist, outside its try) and stay 'queued' for ever. Dispatch it to a queue jobs-runtime runs`,
  );
}
