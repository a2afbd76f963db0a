import type { Command } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { resolveConfig } from '../../config.js';
import { InvalidInputError } from '../../errors.js';
import { assertHandlerName } from '../../values/names.js';
import { printJson } from '../format.js';

// \`override\` on every member that replaces one of Job's: the template compiles under
// noImplicitOverride (as this project's own tsconfig uses) and without it.
const template = (handler: string) => {
  const className = handler.split('/').pop()!;
  // The stored handler is the class name unless the class says otherwise: a job in a sub-folder
  // must name its path, or every run fails as an unknown handler.
  const handlerLine = handler === className ? '' : `  static override handler = '${handler}';\n\n`;
  return `import { Job, type JsonObject } from 'jobs-runtime';

type Payload = JsonObject; // JSON data only, e.g. { to: string; message: string }

export default class ${className} extends Job<Payload> {
${handlerLine}  override queue = 'default';
  override delay = 'now';          // e.g. '+30 seconds'
  override attempts = 1;           // total runs allowed
  override retryAfter = 'now';     // e.g. '+1 minute'

  override async run(payload: Payload): Promise<void> {
    // The work goes here. Throw to fail this attempt; call this.failPermanently(message) to fail with no retry.
  }
}
`;
};

export function registerCreateJob(program: Command): void {
  program
    .command('create:job <name>')
    .description('Create a job class file, e.g. jobs/SendMail.ts (names: identifiers, or folder/Name)')
    .option('--dir <dir>', 'jobs directory (default: the configured jobs directory, else ./jobs)')
    .option('--force', 'overwrite an existing file')
    .option('--json', 'print { file, handler } as JSON')
    .action(async (name: string, opts: { dir?: string; force?: boolean; json?: boolean }) => {
      assertHandlerName(name);
      const dir = opts.dir ? resolve(opts.dir) : (await resolveConfig({ applyToProcess: true })).jobsDir;
      const file = join(dir, `${name}.ts`);
      const existing = ['.ts', '.mts', '.js', '.mjs'].map((ext) => join(dir, name + ext)).find(existsSync);
      if (existing && !opts.force) {
        throw new InvalidInputError(`${relative(process.cwd(), existing) || existing} already exists: use --force to overwrite it`);
      }
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, template(name));
      if (opts.json) printJson({ file, handler: name });
      else process.stdout.write(`✔ Job created: ./${relative(process.cwd(), file)}\n`);
    });
}
