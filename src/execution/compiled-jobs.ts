import { existsSync } from 'node:fs';
import * as nodeModule from 'node:module';

// In a thread: the job files the master compiled (`ThreadData.compiledJobs`), imported as plain
// JavaScript instead of through tsx. Their source maps make stack traces name the .ts file and line.

let manifest: Readonly<Record<string, string>> | null = null;

export function useCompiledJobs(compiled: Readonly<Record<string, string>> | undefined): void {
  if (!compiled || Object.keys(compiled).length === 0) return;
  manifest = compiled;
  enableSourceMaps(); // before the first compiled file loads: Node reads a map as the file loads
}

/** The compiled file for a job file, or null: not compiled (added since the start), or its cache is gone. */
export function compiledFileFor(source: string): string | null {
  const compiled = manifest?.[source];
  return compiled && existsSync(compiled) ? compiled : null;
}

type SourceMapsSupport = (enabled: boolean, options: { nodeModules: boolean; generatedCode: boolean }) => void;

function enableSourceMaps(): void {
  // Newer Node skips files under node_modules unless told, and the cache lives there.
  const setSupport = (nodeModule as { setSourceMapsSupport?: SourceMapsSupport }).setSourceMapsSupport;
  if (setSupport) setSupport(true, { nodeModules: true, generatedCode: true });
  else process.setSourceMapsEnabled(true);
}
