import t from 'tap';
import { readFileSync } from 'node:fs';
import { VERSION } from '../lib/version.js';

t.test('the version in lib matches package.json', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  t.equal(VERSION, pkg.version);
});
