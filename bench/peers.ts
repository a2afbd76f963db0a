// Runs the peer benchmarks of ../shared/peers in this invocation, so ratios compare figures
// taken on the same machine at the same time. The folder is copied (shared/ may be read-only)
// and its pinned packages installed once.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.ts';

const SOURCE = process.env.JOBS_PEERS_DIR ?? join(ROOT, '../shared/peers');
const COPY = join(ROOT, 'bench/.peers');

export function preparePeers(): void {
  if (!existsSync(SOURCE)) throw new Error(`peer benchmarks not found at ${SOURCE} (set JOBS_PEERS_DIR)`);
  cpSync(SOURCE, COPY, { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes('/results') });
  if (!existsSync(join(COPY, 'node_modules'))) {
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: COPY, stdio: 'inherit' });
  }
}

/** Runs one peer command; returns its RESULT lines as { "<peer> <workload>": value }. */
export function runPeer(script: string, mode: string, env: NodeJS.ProcessEnv = {}): Record<string, number> {
  const out = execFileSync(process.execPath, [script, mode], {
    cwd: COPY,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 300_000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const figures: Record<string, number> = {};
  for (const m of out.matchAll(/^RESULT (\S+) (\S+) (\S+) \S+$/gm)) figures[`${m[1]} ${m[2]}`] = Number(m[3]);
  return figures;
}
