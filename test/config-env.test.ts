import t from 'tap';
import { InputFileError } from '../lib/errors.js';
import { loadRawConfig, readJsonFile } from '../lib/config-env.js';
import { mergeRawConfig } from '../lib/config.js';

const files = (map: Record<string, string>) => async (path: string): Promise<string> => {
  const text = map[path];
  if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  return text;
};

async function fileError(p: Promise<unknown>): Promise<InputFileError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof InputFileError) return err;
    throw err;
  }
  throw new Error('expected an InputFileError');
}

t.test('config sources merge in order, ENV at its position, aliases replacing each other', async (t) => {
  const readFile = files({
    'a.json': '{"gitlab_token":"t-a","page_size":10,"api_url":"https://a.example.com"}',
    'b.json': '{"private_token":"t-b","max_retries":"3"}',
  });
  const env = { TAP_GITLAB_PAGE_SIZE: '30', TAP_GITLAB_GITLAB_BASE_URL: 'https://env.example.com', HOME: '/root' };
  t.same(await loadRawConfig(['a.json', 'b.json'], { readFile, env }), { page_size: 10, api_url: 'https://a.example.com', private_token: 't-b', max_retries: '3' });
  t.same(await loadRawConfig(['a.json', 'env', 'b.json'], { readFile, env }), { page_size: '30', gitlab_base_url: 'https://env.example.com', private_token: 't-b', max_retries: '3' });
  t.same(await loadRawConfig(['ENV', 'a.json'], { readFile, env }), { gitlab_token: 't-a', page_size: 10, api_url: 'https://a.example.com' });
});

t.test('a source with a setting under both names keeps both, for the conflict check', async (t) => {
  t.same(mergeRawConfig({ page_size: 1 }, { gitlab_token: 'a', private_token: 'b' }), { page_size: 1, gitlab_token: 'a', private_token: 'b' });
  t.same(mergeRawConfig({ gitlab_token: 'a', private_token: 'b' }, { private_token: 'c' }), { private_token: 'c' });
});

t.test('file problems name the file and never echo its content', async (t) => {
  const readFile = files({
    'syntax.json': '{\n  "gitlab_token": glpat-SECRET\n}',
    'short.json': '{"gitlab_token": "glpat-SECRET"',
    'comma.json': '{"a": 1,}',
    'bom.json': '\uFEFF{"a": 1}',
    'blank.json': '\n\n',
    'list.json': '[1]',
  });
  const deps = { readFile, env: {} };
  const syntax = await fileError(loadRawConfig(['syntax.json'], deps));
  t.equal(syntax.code, 'CONFIG_FILE');
  t.equal(syntax.exitCode, 2);
  t.equal(syntax.message, "The config file syntax.json is not valid JSON: unexpected character 'g' at line 2, column 19.");
  t.equal((await fileError(loadRawConfig(['short.json'], deps))).message, "The config file short.json is not valid JSON: expected ',' or '}' after property value at line 1, column 32.");
  t.equal((await fileError(loadRawConfig(['comma.json'], deps))).message, 'The config file comma.json is not valid JSON: expected double-quoted property name at line 1, column 9.');
  t.same(await loadRawConfig(['bom.json'], deps), { a: 1 }, 'a byte-order mark is fine');
  t.equal((await fileError(loadRawConfig(['blank.json'], deps))).message, 'The config file blank.json is empty; it must hold a JSON object.');
  t.equal((await fileError(loadRawConfig(['list.json'], deps))).message, 'The config file list.json must hold a JSON object of settings, not a list.');
  t.equal((await fileError(loadRawConfig(['nope.json'], deps))).message, 'The config file nope.json does not exist.');
});

t.test('state and catalog files are named as such', async (t) => {
  const readFile = async (path: string): Promise<string> => {
    throw Object.assign(new Error(`EACCES ${path}`), { code: 'EACCES' });
  };
  const state = await fileError(readJsonFile('s.json', 'STATE_FILE', readFile));
  t.equal(state.code, 'STATE_FILE');
  t.equal(state.message, 'The state file s.json is not readable (permission denied).');
  const catalog = await fileError(readJsonFile('c.json', 'CATALOG_FILE', files({ 'c.json': '{"streams": [' })));
  t.equal(catalog.message, 'The catalog file c.json is not valid JSON: it ends too early, at line 1, column 14.');
});
