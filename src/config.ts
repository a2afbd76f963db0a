import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidInputError } from './errors.js';
import { DEFAULT_DATABASE_URL } from './stores/open-store.js';
import { registerTypeScript } from './execution/typescript-loader.js';

/** What `jobs.config.{ts,js,json}` may hold. */
export interface JobsConfig {
  databaseUrl?: string;
  jobsDir?: string;
  /** Runtime retention of completed jobs ('1d', 'forever'); `start --keep-completed` overrides it. */
  keepCompleted?: string;
  /** Runtime retention of failed jobs ('30d'); `start --keep-failed` overrides it. */
  keepFailed?: string;
}

export const CONFIG_FILES = ['jobs.config.ts', 'jobs.config.mts', 'jobs.config.js', 'jobs.config.mjs', 'jobs.config.json'];

export interface ResolvedConfig {
  databaseUrl: string;
  /** Where the URL came from, for the start banner. */
  source: string;
  jobsDir: string;
  /** Retentions from the config file, as written there, with the file's name (for messages). */
  retention?: { file: string; keepCompleted?: string; keepFailed?: string };
}

/**
 * Settings in order of precedence: an explicit URL (`--database-url`), JOBS_DATABASE_URL (a
 * `.env` in the working directory is read, without overriding the real environment), the
 * first jobs.config file, then the embedded SQLite store.
 */
export async function resolveConfig(options: { databaseUrl?: string; jobsDir?: string; cwd?: string } = {}): Promise<ResolvedConfig> {
  const cwd = options.cwd ?? process.cwd();
  loadDotEnv(cwd);
  const file = await loadConfigFile(cwd);
  const fromEnv = process.env.JOBS_DATABASE_URL?.trim();
  const [databaseUrl, source] = options.databaseUrl
    ? [options.databaseUrl, '--database-url']
    : fromEnv
      ? [fromEnv, 'JOBS_DATABASE_URL']
      : file?.config.databaseUrl
        ? [file.config.databaseUrl, file.name]
        : [DEFAULT_DATABASE_URL, 'default'];
  const jobsDir = resolve(cwd, options.jobsDir ?? process.env.JOBS_DIR ?? file?.config.jobsDir ?? 'jobs');
  const { keepCompleted, keepFailed } = file?.config ?? {};
  const retention =
    file && (keepCompleted || keepFailed) ? { file: file.name, ...(keepCompleted ? { keepCompleted } : {}), ...(keepFailed ? { keepFailed } : {}) } : undefined;
  return { databaseUrl, source, jobsDir, ...(retention ? { retention } : {}) };
}

function loadDotEnv(cwd: string): void {
  const path = resolve(cwd, '.env');
  if (!existsSync(path)) return;
  try {
    // process.loadEnvFile does not override variables already set, as dotenv does.
    process.loadEnvFile(path);
  } catch (e) {
    throw new InvalidInputError(`Cannot read ${path}: ${(e as Error).message}`);
  }
}

async function loadConfigFile(cwd: string): Promise<{ name: string; config: JobsConfig } | null> {
  const name = CONFIG_FILES.find((f) => existsSync(resolve(cwd, f)));
  if (!name) return null;
  const path = resolve(cwd, name);
  let value: unknown;
  try {
    if (name.endsWith('.json')) value = JSON.parse(readFileSync(path, 'utf8'));
    else {
      if (/\.m?ts$/.test(name)) await registerTypeScript();
      const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
      value = mod.default ?? mod;
    }
  } catch (e) {
    throw new InvalidInputError(`Cannot load ${path}: ${(e as Error).message}`);
  }
  return { name, config: validateConfig(value, path) };
}

function validateConfig(value: unknown, path: string): JobsConfig {
  if (typeof value !== 'object' || value === null) throw new InvalidInputError(`${path} must export an object like { databaseUrl: 'mysql://…' }`);
  const known = new Set(['databaseUrl', 'jobsDir', 'keepCompleted', 'keepFailed']);
  for (const [k, v] of Object.entries(value)) {
    if (!known.has(k)) throw new InvalidInputError(`${path}: unknown setting '${k}' (known: ${[...known].join(', ')})`);
    if (typeof v !== 'string' || v.trim() === '') throw new InvalidInputError(`${path}: '${k}' must be a non-empty string`);
  }
  return value as JobsConfig;
}
