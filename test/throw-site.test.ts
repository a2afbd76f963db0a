// The ✖ line names where a job threw: the first frame of its stack in the app's own code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { throwSite } from '../src/execution/throw-site.ts';

test('the first frame in app code, relative to the working directory; packages, Node and this runtime are passed over', () => {
  const own = new URL('../src/job.ts', import.meta.url).pathname;
  const stack = [
    'JobFailedPermanentlyError: Recipient email address is missing',
    `    at SendMail.failPermanently (${own}:67:11)`,
    '    at Object.send (/srv/shop/node_modules/mailer/index.js:3:9)',
    '    at SendMail.run (/srv/shop/jobs/SendMail.ts:12:27)',
    '    at async runOneJob (node:internal/whatever:1:1)',
  ].join('\n');
  assert.equal(throwSite(stack, '/srv/shop'), 'jobs/SendMail.ts:12:27');
  assert.equal(throwSite(stack, '/elsewhere'), '/srv/shop/jobs/SendMail.ts:12:27', 'absolute outside the working directory');
  assert.equal(throwSite('Error: x\n    at file:///srv/shop/lib/mail.ts:4:2', '/srv/shop'), 'lib/mail.ts:4:2');
  assert.equal(throwSite('Error: x\n    at node:internal/x:1:1', '/srv/shop'), undefined);
  assert.equal(throwSite(undefined), undefined);
});
