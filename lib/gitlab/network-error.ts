/**
 * Recognises the errors fetch/undici/ky throw when GitLab cannot be reached, and says how often
 * each kind is retried (see retry-policy.ts for the reasoning).
 */
import { GitLabNetworkError } from '../errors.js';
import { UNREACHABLE_RETRIES } from './retry-policy.js';

export type NetworkErrorCode = 'NETWORK_DNS' | 'NETWORK_REFUSED' | 'NETWORK_TLS' | 'NETWORK_TIMEOUT' | 'NETWORK_RESET' | 'NETWORK_PROXY' | 'NETWORK_OTHER';

export interface NetworkFailure {
  code: NetworkErrorCode;
  /** The low-level code found (ENOTFOUND, ECONNRESET, …) or the error's name. */
  detail: string;
  /** How many retries this kind gets, given the configured maximum. */
  retryLimit(maxRetries: number): number;
  /** A short human description. */
  describe: string;
}

const TLS_CODES = /^(CERT_|UNABLE_TO_|ERR_TLS|ERR_SSL|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED|HOSTNAME_MISMATCH|EPROTO$)/;
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** Every error in the cause chain (and AggregateError members), outermost first. */
function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && out.length < 20) {
    const e = queue.shift();
    if (e === undefined || e === null || out.includes(e)) continue;
    out.push(e);
    queue.push(field(e, 'cause'));
    const errors = field(e, 'errors');
    if (Array.isArray(errors)) queue.push(...(errors as unknown[]));
  }
  return out;
}

function failure(code: NetworkErrorCode, detail: string, describe: string, retryLimit: (max: number) => number): NetworkFailure {
  return { code, detail, describe, retryLimit };
}

const all = (max: number): number => max;
const few = (max: number): number => Math.min(max, UNREACHABLE_RETRIES);
const none = (): number => 0;

/** Classifies a thrown error as a network failure, or returns null if it is something else (a bug, an abort). */
export function classifyNetworkError(err: unknown): NetworkFailure | null {
  const errors = chain(err);
  for (const e of errors) {
    const code = field(e, 'code');
    if (typeof code !== 'string') continue;
    // The proxy's own failure (proxy.ts): what it said, or why it could not be reached. A 407 will not heal by itself.
    if (code === 'EPROXY') {
      const status = field(e, 'status');
      return failure('NETWORK_PROXY', String(field(e, 'message')), 'the proxy did not connect', status === 407 ? none : few);
    }
    if (code === 'ENOTFOUND') return failure('NETWORK_DNS', code, 'the host name does not resolve', few);
    if (code === 'EAI_AGAIN') return failure('NETWORK_DNS', code, 'DNS lookup failed temporarily', all);
    if (code === 'ECONNREFUSED') return failure('NETWORK_REFUSED', code, 'the connection was refused', few);
    if (TLS_CODES.test(code)) return failure('NETWORK_TLS', code, 'the TLS handshake failed', none);
    if (TIMEOUT_CODES.has(code)) return failure('NETWORK_TIMEOUT', code, 'the connection timed out', all);
    if (RESET_CODES.has(code)) return failure('NETWORK_RESET', code, 'the connection was reset', all);
  }
  for (const e of errors) {
    const name = field(e, 'name');
    const message = field(e, 'message');
    if (name === 'TimeoutError') return failure('NETWORK_TIMEOUT', 'TimeoutError', 'the request timed out', all);
    if (typeof message === 'string' && /socket hang up|other side closed|^terminated$/i.test(message)) {
      return failure('NETWORK_RESET', message, 'the connection was closed', all);
    }
  }
  const top = errors[0];
  if (top instanceof TypeError && /fetch failed|network/i.test(top.message)) {
    return failure('NETWORK_OTHER', top.message, 'the request failed', all);
  }
  return null;
}

/** The GitLabNetworkError raised when a failure is final. `origin` has no credentials; `target` is "GET /path". */
export function networkError(f: NetworkFailure, origin: string, target: string, retries: number, cause: unknown): GitLabNetworkError {
  const tried = retries > 0 ? ` after ${retries} retries` : '';
  const advice =
    f.code === 'NETWORK_TLS'
      ? 'Check gitlab_base_url (http vs https, host name) and that the certificate is trusted (NODE_EXTRA_CA_CERTS for a private CA).'
      : f.code === 'NETWORK_TIMEOUT'
        ? 'GitLab is slow or unreachable; check gitlab_base_url, or raise request_timeout_seconds (behind a proxy, check https_proxy).'
        : f.code === 'NETWORK_PROXY'
          ? 'Check the proxy settings (https_proxy, http_proxy, no_proxy) and the proxy\'s user and password.'
          : 'Check gitlab_base_url and that this machine can reach GitLab (behind a proxy, check https_proxy).';
  return new GitLabNetworkError(f.code, `Could not reach GitLab at ${origin} (${target})${tried}: ${f.describe} (${f.detail}). ${advice}`, { cause });
}
