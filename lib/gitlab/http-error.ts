/**
 * Turns a GitLab error answer into a GitLabHttpError: GitLab's own message, summarised, plus
 * advice on what to do. Body shapes read: {"message": "…"}, {"message": {"field": ["…"]}},
 * {"message": {"error": "…"}}, {"error": "…", "error_description": "…"}, plain text, HTML pages.
 */
import { STATUS_CODES } from 'node:http';
import { GitLabHttpError, redact } from '../errors.js';

/** Longest GitLab message kept in an error. */
export const MAX_MESSAGE_CHARS = 200;

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function truncate(text: string, max = MAX_MESSAGE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&');
}

/** Summarises an HTML page: its <title>, else its first visible text. */
export function summariseHtml(html: string): string {
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1];
  const heading = /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(html)?.[1];
  const strip = (s: string): string => squash(decodeEntities(s.replace(/<[^>]*>/g, ' ')));
  if (title && strip(title)) {
    const t = strip(title);
    const h = heading ? strip(heading) : '';
    return h && !t.includes(h) ? `${t} — ${h}` : t;
  }
  const body = html
    .replace(/<(script|style|head)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ');
  return strip(body);
}

function fromMessageObject(msg: Record<string, unknown>): string {
  if (typeof msg.error === 'string') return msg.error;
  if (typeof msg.message === 'string') return msg.message;
  const parts: string[] = [];
  for (const [key, value] of Object.entries(msg)) {
    const text = Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ') : typeof value === 'string' ? value : JSON.stringify(value);
    parts.push(`${key} ${text}`);
  }
  return parts.join('; ');
}

function fromJson(json: unknown): string | null {
  if (typeof json === 'string') return json;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
  const o = json as Record<string, unknown>;
  if (typeof o.message === 'string') return o.message;
  if (typeof o.message === 'object' && o.message !== null && !Array.isArray(o.message)) return fromMessageObject(o.message as Record<string, unknown>);
  if (Array.isArray(o.message)) return o.message.map(String).join('; ');
  const err = typeof o.error === 'string' ? o.error : null;
  const desc = typeof o.error_description === 'string' ? o.error_description : null;
  if (err && desc) return `${err}: ${desc}`;
  if (err ?? desc) return err ?? desc;
  if (Array.isArray(o.errors)) return o.errors.map((e) => (typeof e === 'string' ? e : fromJson(e) ?? JSON.stringify(e))).join('; ');
  return null;
}

/** GitLab's message from an error body, summarised to at most MAX_MESSAGE_CHARS characters. */
export function gitlabMessage(status: number, bodyText: string, contentType: string | null): string {
  const text = bodyText.trim();
  const fallback = STATUS_CODES[status] ?? `HTTP ${status}`;
  if (text === '') return fallback;
  const looksJson = /json/i.test(contentType ?? '') || text.startsWith('{') || text.startsWith('"');
  if (looksJson) {
    try {
      const msg = fromJson(JSON.parse(text) as unknown);
      if (msg !== null && squash(msg) !== '') return truncate(squash(msg));
    } catch {
      // not JSON after all: fall through to text handling
    }
  }
  const looksHtml = /html/i.test(contentType ?? '') || /^<(!doctype|html|head|body)/i.test(text);
  const summary = looksHtml ? summariseHtml(text) : squash(text);
  return truncate(summary === '' ? fallback : summary);
}

/** What the user should do about an answer with this status and message. */
/** True when GitLab says the token lacks a scope: every request will be refused alike, whatever it asks for. */
export function isScopeError(status: number, message: string, wwwAuthenticate: string | null): boolean {
  return status === 403 && (/insufficient_scope/i.test(message) || /insufficient_scope/i.test(wwwAuthenticate ?? ''));
}

export function adviceFor(status: number, message: string, wwwAuthenticate: string | null = null): string {
  const scope = isScopeError(status, message, wwwAuthenticate);
  if (status === 401) return 'The token is invalid, expired or revoked: create a new token with the read_api scope and set gitlab_token.';
  if (status === 403 && scope) return 'The token lacks a scope: it needs read_api (or api).';
  if (status === 403) return "The token's user may not read this (feature disabled, tier-gated endpoint, or blocked IP): check its access; the token needs read_api.";
  if (status === 404) return 'Not found, or not visible to this token (GitLab answers 404 for both): check the id or path and the token\'s access.';
  if (status === 405 && isOffsetCapMessage(message)) return 'GitLab caps offset pagination for this resource; it must be read with keyset pagination.';
  if (status === 405) return 'GitLab does not allow this request here (method or pagination mode).';
  if (status === 408) return 'GitLab timed out preparing the answer; try a smaller page_size or run later.';
  if (status === 409) return 'GitLab reports a conflict with the state of the resource (a project being moved, imported or deleted, say); run again later.';
  if (status === 410) return 'GitLab says this is gone for good (deleted); remove it from gitlab_project_ids.';
  if (status === 414) return 'The request address was too long for GitLab or a proxy in front of it; configure fewer project paths or a shorter project_name_pattern.';
  if (status === 423) return 'GitLab has locked this resource (a migration or a repository being moved); run again later.';
  if (status === 429) return 'GitLab kept rate limiting the tap; lower max_concurrency, raise max_retries or run later.';
  if (status >= 500) return 'GitLab or a proxy in front of it failed; try again later (raise max_retries to wait longer).';
  if (status === 400 || status === 422) return 'GitLab rejected a parameter; check the config values (this may also be an unsupported GitLab version).';
  return 'Check gitlab_base_url and the token.';
}

const MISSING_API_ADVICE =
  "GitLab's API was not found at this address: check gitlab_base_url (the address you open GitLab at, with a path only if GitLab is served under one).";

/**
 * A 404 on an endpoint every GitLab has (the project listing, /user, /users, /version) means the
 * base URL does not point at GitLab's API, not that a project is missing.
 */
export function isMissingApi(status: number, path: string): boolean {
  return status === 404 && /\/api\/v4\/(projects|user|users|version)(\?|$)/.test(path);
}

/** True for the 405 GitLab sends when an offset page lies beyond its offset pagination limit. */
export function isOffsetCapMessage(message: string): boolean {
  return /offset pagination/i.test(message) && /(maximum|keyset)/i.test(message);
}

export interface HttpErrorInit {
  status: number;
  method: string;
  path: string;
  bodyText: string;
  headers: Headers;
  retries?: number;
  secrets?: readonly string[];
}

/** Builds the GitLabHttpError for a final error answer. */
export function httpError(init: HttpErrorInit): GitLabHttpError {
  const secrets = init.secrets ?? [];
  const message = redact(gitlabMessage(init.status, init.bodyText, init.headers.get('content-type')), secrets);
  return new GitLabHttpError({
    status: init.status,
    method: init.method,
    path: redact(init.path, secrets),
    gitlabMessage: message,
    advice: isMissingApi(init.status, init.path) ? MISSING_API_ADVICE : adviceFor(init.status, message, init.headers.get('www-authenticate')),
    tokenScope: isScopeError(init.status, message, init.headers.get('www-authenticate')),
    ...(init.retries === undefined ? {} : { retries: init.retries }),
  });
}
