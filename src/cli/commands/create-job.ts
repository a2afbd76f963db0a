import type { Command } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { resolveConfig } from '../../config.js';
import { InvalidInputError } from '../../errors.js';
import { assertHandlerName } from '../../values/names.js';

const template = (className: string) => `import { Job, type JsonObject } from 'jobs-runtime';

type Payload = JsonObject; // JSON data only, e.g. { to: string; message: string }

export default class ${className} extends Job<Payload> {
  queue = 'default';
  delay = 'now';          // e.g. '+30 seconds'
  attempts = 1;           // total runs allowed
  retryAfter = 'now';     // e.g. '+1 minute'

  async run(payload: Payload): Promise<void> {
    // The work goes here. Throw to fail this attempt; call this.failPermanently(message) to fail with no retry.
  }
}
`;

export function registerCreateJob(program: Command): void {
  program
    .command('create:job <name>')
    .description('Create a job class file, e.g. jobs/SendMail.ts (names: identifiers, or folder/Name)')
    .option('--dir <dir>', 'jobs directory (default: the configured jobs directory, else ./jobs)')
    .option('--force', 'overwrite an existing file')
    .action(async (name: string, opts: { dir?: string; force?: boolean }) => {
      assertHandlerName(name);
      const dir = opts.dir ? resolve(opts.dir) : (await resolveConfig()).jobsDir;
      const file = join(dir, `${name}.ts`);
      const existing = ['.ts', '.mts', '.js', '.mjs'].map((ext) => join(dir, name + ext)).find(existsSync);
      if (existing && !opts.force) {
        throw new InvalidInputError(`${relative(process.cwd(), existing) || existing} already exists: use --force to overwrite it`);
      }
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, template(name.split('/').pop()!));
      process.stdout.write(`✓ Job created: ./${relative(process.cwd(), file)}\n`);
    });
}
