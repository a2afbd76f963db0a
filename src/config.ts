import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseEnv } from 'node:util';
import { InvalidInputError } from './errors.js';
import { DEFAULT_DATABASE_URL } from './stores/open-store.js';
import { parsePoolSize } from './stores/url-params.js';
import { registerTypeScript } from './execution/typescript-loader.js';
import { type LightpackConfig, type LightpackSetting, resolveLightpack } from './values/lightpack.js';

/** What `jobs.config.{ts,js,json}` may hold. */
export interface JobsConfig {
  databaseUrl?: string;
  jobsDir?: string;
  /** Runtime retention of completed jobs ('1d', 'forever'); `start --keep-completed` overrides it. */
  keepCompleted?: string;
  /** Runtime retention of failed jobs ('30d'); `start --keep-failed` overrides it. */
  keepFailed?: string;
  /** How long runtimes keep job outcomes ('1h', '0' = off, 'forever'); `start --keep-outcomes` overrides it. */
  keepOutcomes?: string;
  /**
   * MySQL connections a dispatching application may open, used with this file's databaseUrl
   * (JOBS_DISPATCH_POOL wins over it, the URL's ?pool= over both).
   */
  dispatchPool?: number | string;
  /** Sharing the MySQL table with Lightpack's PHP workers (values/lightpack.ts). */
  lightpack?: LightpackConfig;
}

export const CONFIG_FILES = ['jobs.config.ts', 'jobs.config.mts', 'jobs.config.js', 'jobs.config.mjs', 'jobs.config.json'];

export interface ResolvedConfig {
  databaseUrl: string;
  /** Where the URL came from, for the start banner. */
  source: string;
  jobsDir: string;
  /** Retentions from the config file, as written there, with the file's name (for messages). */
  retention?: { file: string; keepCompleted?: string; keepFailed?: string; keepOutcomes?: string };
  /** The Lightpack coexistence setting: the CLI's options, else the config file's. */
  lightpack?: LightpackSetting;
}

/** How the settings are read: by the runtime's CLI, or without touching the process (an application). */
export interface ConfigOptions {
  databaseUrl?: string;
  jobsDir?: string;
  cwd?: string;
  /**
   * The CLI's own process only: `.env` values are written into process.env (jobs read them
   * there, as in the runtime they port) and a jobs.config.ts is imported through the TypeScript
   * loader. Without it nothing in the process changes: `.env` is only read, and a
   * jobs.config.ts is imported only if the process can already load TypeScript.
   */
  applyToProcess?: boolean;
  /** `--lightpack-queues` / `--lightpack-map`: replace the config file's parts of the setting. */
  lightpackQueues?: string[];
  lightpackMap?: Record<string, string>;
}

/**
 * Settings in order of precedence: an explicit URL (`--database-url`), JOBS_DATABASE_URL (from
 * the environment, else a `.env` in the working directory), the first jobs.config file, then
 * the embedded SQLite store.
 */
export async function resolveConfig(options: ConfigOptions = {}): Promise<ResolvedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const env = readEnv(cwd, options.applyToProcess === true);
  const file = await loadConfigFile(cwd, options.applyToProcess === true);
  const fromEnv = env.JOBS_DATABASE_URL?.trim();
  const [databaseUrl, source] = options.databaseUrl
    ? [options.databaseUrl, '--database-url']
    : fromEnv
      ? [fromEnv, 'JOBS_DATABASE_URL']
      : file?.config.databaseUrl
        ? [file.config.databaseUrl, file.name]
        : [DEFAULT_DATABASE_URL, 'default'];
  const jobsDir = resolve(cwd, options.jobsDir ?? env.JOBS_DIR ?? file?.config.jobsDir ?? 'jobs');
  const { keepCompleted, keepFailed, keepOutcomes } = file?.config ?? {};
  const retention =
    file && (keepCompleted || keepFailed || keepOutcomes)
      ? {
          file: file.name,
          ...(keepCompleted ? { keepCompleted } : {}),
          ...(keepFailed ? { keepFailed } : {}),
          ...(keepOutcomes ? { keepOutcomes } : {}),
        }
      : undefined;
  const lightpack = lightpackOf(file, options);
  return { databaseUrl, source, jobsDir, ...(retention ? { retention } : {}), ...(lightpack ? { lightpack } : {}) };
}

function lightpackOf(file: { name: string; config: JobsConfig } | null, options: ConfigOptions): LightpackSetting | undefined {
  const fromFile = file?.config.lightpack;
  if (!fromFile && !options.lightpackQueues && !options.lightpackMap) return undefined;
  const raw: LightpackConfig = { ...(fromFile ?? {}) };
  if (options.lightpackQueues) raw.queues = options.lightpackQueues;
  if (options.lightpackMap) raw.map = options.lightpackMap;
  return resolveLightpack(raw, options.lightpackQueues || options.lightpackMap ? '--lightpack-queues/--lightpack-map' : file!.name);
}

/** What an application's dispatches go to. */
export interface DispatchSettings {
  databaseUrl: string;
  /** JOBS_DISPATCH_POOL, else the config file's dispatchPool (when the URL is the file's), when set. */
  pool?: number;
  /** The config file's Lightpack setting, when the URL is the file's: dispatches to PHP queues are refused. */
  lightpack?: LightpackSetting;
}

/**
 * The store URL an application dispatches to, and its pool setting, read without changing the
 * process: the environment's JOBS_DATABASE_URL / JOBS_DISPATCH_POOL, else `.env`'s, else a
 * jobs.config file's (read only when needed), else the embedded SQLite file.
 */
export async function resolveDispatchSettings(cwd = process.cwd()): Promise<DispatchSettings> {
  const env = readEnv(cwd, false);
  const urlFromEnv = env.JOBS_DATABASE_URL?.trim();
  const poolFromEnv = env.JOBS_DISPATCH_POOL?.trim();
  // The config file is read only when the URL comes from it, as before the pool setting: an app
  // whose URL is in the environment never loads it (a jobs.config.ts needs a loader it may lack).
  const file = urlFromEnv ? null : await loadConfigFile(cwd, false);
  const databaseUrl = urlFromEnv || file?.config.databaseUrl || DEFAULT_DATABASE_URL;
  const pool = poolFromEnv
    ? parsePoolSize(poolFromEnv, 'JOBS_DISPATCH_POOL')
    : file?.config.dispatchPool !== undefined
      ? parsePoolSize(String(file.config.dispatchPool), `${file.name}'s dispatchPool`)
      : undefined;
  const lightpack = file?.config.lightpack ? resolveLightpack(file.config.lightpack, file.name) : undefined;
  return { databaseUrl, ...(pool !== undefined ? { pool } : {}), ...(lightpack ? { lightpack } : {}) };
}

/**
 * The store URL resolveDispatchSettings finds, found synchronously (a dispatch inside
 * better-sqlite3's synchronous transaction cannot wait): a jobs.config.js/.ts, which only an
 * import can read, makes it throw, naming the fixes.
 */
export function resolveDispatchUrlSync(cwd = process.cwd()): string {
  const fromEnv = readEnv(cwd, false).JOBS_DATABASE_URL?.trim();
  if (fromEnv) return fromEnv;
  const name = CONFIG_FILES.find((f) => existsSync(resolve(cwd, f)));
  if (!name) return DEFAULT_DATABASE_URL;
  if (name.endsWith('.json')) {
    const path = resolve(cwd, name);
    return validateConfig(JSON.parse(readFileSync(path, 'utf8')), path).databaseUrl ?? DEFAULT_DATABASE_URL;
  }
  throw new InvalidInputError(
    `A dispatch inside a better-sqlite3 transaction must know its store at once, and ${name} can only be imported (asynchronously): ` +
      'call configure({ databaseUrl }) at startup, set JOBS_DATABASE_URL, or dispatch once outside the transaction first',
  );
}

/** The environment, with `.env` values under it (never over it, as with dotenv). */
function readEnv(cwd: string, applyToProcess: boolean): Record<string, string | undefined> {
  const path = resolve(cwd, '.env');
  if (!existsSync(path)) return process.env;
  try {
    if (applyToProcess) {
      process.loadEnvFile(path);
      return process.env;
    }
    return { ...parseEnv(readFileSync(path, 'utf8')), ...process.env };
  } catch (e) {
    throw new InvalidInputError(`Cannot read ${path}: ${(e as Error).message}`);
  }
}

async function loadConfigFile(cwd: string, mayRegisterLoader: boolean): Promise<{ name: string; config: JobsConfig } | null> {
  const name = CONFIG_FILES.find((f) => existsSync(resolve(cwd, f)));
  if (!name) return null;
  const path = resolve(cwd, name);
  let value: unknown;
  try {
    if (name.endsWith('.json')) value = JSON.parse(readFileSync(path, 'utf8'));
    else {
      if (/\.m?ts$/.test(name) && mayRegisterLoader) await registerTypeScript();
      const mod = (await import(pathToFileURL(path).href)) as { default?: { default?: unknown } };
      // `export default {…}` in a package without "type": "module" is compiled to CommonJS,
      // and arrives as { default: { default: {…} } }.
      value = mod.default?.default ?? mod.default ?? mod;
    }
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw new InvalidInputError(
        `Cannot read ${path}: this process has no TypeScript loader, and dispatching never installs one into an application. ` +
          `Set JOBS_DATABASE_URL (in the environment or .env), call configure({ databaseUrl }) before dispatching, or use jobs.config.json or .js`,
      );
    }
    throw new InvalidInputError(`Cannot load ${path}: ${(e as Error).message}`);
  }
  return { name, config: validateConfig(value, path) };
}

function validateConfig(value: unknown, path: string): JobsConfig {
  if (typeof value !== 'object' || value === null) throw new InvalidInputError(`${path} must export an object like { databaseUrl: 'mysql://…' }`);
  const known = new Set(['databaseUrl', 'jobsDir', 'keepCompleted', 'keepFailed', 'keepOutcomes', 'dispatchPool', 'lightpack']);
  for (const [k, v] of Object.entries(value)) {
    if (!known.has(k)) throw new InvalidInputError(`${path}: unknown setting '${k}' (known: ${[...known].join(', ')})`);
    if (k === 'dispatchPool') {
      parsePoolSize(String(v), `${path}'s dispatchPool`);
      continue;
    }
    if (k === 'lightpack') {
      resolveLightpack(v, path);
      continue;
    }
    if (typeof v !== 'string' || v.trim() === '') throw new InvalidInputError(`${path}: '${k}' must be a non-empty string`);
  }
  return value as JobsConfig;
}
