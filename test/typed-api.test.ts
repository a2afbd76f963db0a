// The typed API as a TypeScript app meets it: the repo's own tsc compiles test/fixtures/typed-app
// (the settings `tsc --init` writes, plus noImplicitOverride). Files there that must compile hold
// no error; each line that must fail ends with `// error TSnnnn`, and the compiler must report
// exactly those errors: that code on that line, and nothing else.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const APP = join(PACKAGE_DIR, 'test', 'fixtures', 'typed-app');
const TSC = join(PACKAGE_DIR, 'node_modules', '.bin', 'tsc');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** "file:line TSnnnn" for every `// error TSnnnn` marker in the fixture app. */
function expectedErrors(): string[] {
  return sourceFiles(APP).flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) => [...line.matchAll(/\/\/ error (TS\d+)/g)].map((m) => `${relative(APP, file)}:${i + 1} ${m[1]}`)),
  );
}

/** "file:line TSnnnn" for every error tsc reports (its first line, `file(line,col): error TSnnnn: …`). */
function reportedErrors(output: string): string[] {
  return [...output.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+):/gm)].map((m) => `${relative(APP, join(PACKAGE_DIR, m[1]!))}:${m[2]} ${m[3]}`);
}

describe('typed API (tsc on test/fixtures/typed-app)', () => {
  // Compiled once: tsc over the whole app takes a few seconds.
  const run = spawnSync(TSC, ['-p', APP, '--pretty', 'false'], { cwd: PACKAGE_DIR, encoding: 'utf8', timeout: 120_000 });
  const output = `${run.stdout}${run.stderr}`;
  const reported = reportedErrors(output);

  test('tsc ran and reported errors only in must-fail/', () => {
    assert.equal(run.error, undefined, String(run.error));
    assert.ok(reported.length > 0, `tsc reported no error at all:\n${output}`);
    const elsewhere = reported.filter((e) => !e.startsWith('must-fail/'));
    assert.deepEqual(elsewhere, [], `files that must compile (the README's job, app.ts, jobs/) did not:\n${output}`);
  });

  test('each marked line fails with its error code, and nothing else fails', () => {
    assert.deepEqual([...reported].sort(), expectedErrors().sort(), output);
  });

  test("the job in the README's Writing-a-job section is jobs/SendMail.ts, the one compiled here", () => {
    const readme = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Writing a job'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    assert.equal(block, readFileSync(join(APP, 'jobs', 'SendMail.ts'), 'utf8'));
  });

  test('the messages name what is wrong: the Date, the missing payload, the missing run()', () => {
    assert.match(output, /Type 'Date' is not assignable to type '"a Date is not JSON: pass date\.toISOString\(\)"'/);
    assert.match(output, /missing-payload\.ts\(3,\d+\): error TS2554: Expected 1-2 arguments, but got 0/);
    assert.match(output, /does not implement inherited abstract member run/);
  });
});
