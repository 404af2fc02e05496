import t from 'tap';
import { classifyNetworkError, networkError } from '../lib/gitlab/network-error.js';
import { GitLabNetworkError } from '../lib/errors.js';

const wrapped = (code: string): TypeError => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });

t.test('classifies undici failures by their cause code', async (t) => {
  const cases: Array<[unknown, string, number]> = [
    [wrapped('ENOTFOUND'), 'NETWORK_DNS', 2],
    [wrapped('EAI_AGAIN'), 'NETWORK_DNS', 8],
    [wrapped('ECONNREFUSED'), 'NETWORK_REFUSED', 2],
    [wrapped('ECONNRESET'), 'NETWORK_RESET', 8],
    [wrapped('UND_ERR_SOCKET'), 'NETWORK_RESET', 8],
    [wrapped('ETIMEDOUT'), 'NETWORK_TIMEOUT', 8],
    [wrapped('UND_ERR_CONNECT_TIMEOUT'), 'NETWORK_TIMEOUT', 8],
    [wrapped('CERT_HAS_EXPIRED'), 'NETWORK_TLS', 0],
    [wrapped('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'NETWORK_TLS', 0],
    [wrapped('ERR_TLS_CERT_ALTNAME_INVALID'), 'NETWORK_TLS', 0],
    [wrapped('ERR_SSL_WRONG_VERSION_NUMBER'), 'NETWORK_TLS', 0],
    [Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'NETWORK_TIMEOUT', 8],
    [new Error('socket hang up'), 'NETWORK_RESET', 8],
    [new TypeError('terminated', { cause: new Error('other side closed') }), 'NETWORK_RESET', 8],
    [new TypeError('fetch failed'), 'NETWORK_OTHER', 8],
  ];
  for (const [err, code, retries] of cases) {
    const f = classifyNetworkError(err);
    t.equal(f?.code, code, `${String((err as Error).cause ?? err)} → ${code}`);
    t.equal(f?.retryLimit(8), retries);
  }
});

t.test('finds a code inside an AggregateError (happy eyeballs)', async (t) => {
  const agg = new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' }), Object.assign(new Error('b'), { code: 'ECONNREFUSED' })]);
  t.equal(classifyNetworkError(new TypeError('fetch failed', { cause: agg }))?.code, 'NETWORK_REFUSED');
});

t.test('leaves programming errors and aborts alone', async (t) => {
  t.equal(classifyNetworkError(new RangeError('bad')), null);
  t.equal(classifyNetworkError(new DOMException('aborted', 'AbortError')), null);
  t.equal(classifyNetworkError('string'), null);
});

t.test('the final error names the origin and request and points at gitlab_base_url', async (t) => {
  const f = classifyNetworkError(wrapped('ENOTFOUND'));
  t.ok(f);
  if (!f) return;
  const err = networkError(f, 'https://gitlab.exmaple.com', 'GET /api/v4/version', 2, new Error('x'));
  t.type(err, GitLabNetworkError);
  t.equal(err.code, 'NETWORK_DNS');
  t.equal(err.message, 'Could not reach GitLab at https://gitlab.exmaple.com (GET /api/v4/version) after 2 retries: the host name does not resolve (ENOTFOUND). Check gitlab_base_url and that this machine can reach GitLab (behind a proxy, check https_proxy).');
  t.equal(err.exitCode, 1);
});
