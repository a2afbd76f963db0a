import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './paths.js';

// The unit files ship as plain templates (systemd/, supervisor/ in the package) so an operator
// can read what will be installed. `{{key}}` is replaced by a value already validated and
// quoted for that file's format; a line holding a placeholder whose value is null is left out
// (an optional setting such as Group= or EnvironmentFile=). A placeholder without a value is a
// bug in the caller and throws, so a template and its renderer cannot drift apart silently.

export type TemplateValues = Record<string, string | null>;

export function readTemplate(relativePath: string): string {
  return readFileSync(join(packageRoot(), relativePath), 'utf8');
}

export function fillTemplate(template: string, values: TemplateValues, what: string): string {
  const used = new Set<string>();
  const out: string[] = [];
  for (const line of template.split('\n')) {
    let drop = false;
    const filled = line.replace(/\{\{([A-Za-z][A-Za-z0-9]*)\}\}/g, (_, key: string) => {
      if (!(key in values)) throw new Error(`${what}: no value for the placeholder {{${key}}}`);
      used.add(key);
      const v = values[key];
      if (v === null || v === undefined) {
        drop = true;
        return '';
      }
      return v;
    });
    if (!drop) out.push(filled);
  }
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`${what}: the template has no placeholder for ${unused.join(', ')}`);
  return out.join('\n');
}
