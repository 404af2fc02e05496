// @ts-check
/**
 * A loose GraphQL endpoint that answers only `users(ids: [...] | usernames: [...], first: N, after: "...")`
 * with `nodes { ... }` and `pageInfo { hasNextPage endCursor }`, like GitLab's POST /api/graphql.
 */
import { graphqlUser } from './views.mjs';

/**
 * @typedef {import('./dataset.mjs').User} User
 * @typedef {{ status: number, body: unknown }} GraphqlAnswer
 */

const MAX_PAGE = 100;

/**
 * @param {string} s
 * @returns {unknown}
 */
function parseLiteral(s) {
  const t = s.trim();
  if (t.startsWith('"')) return JSON.parse(t);
  if (t.startsWith('[')) {
    const inner = t.slice(1, -1).trim();
    if (!inner) return [];
    return inner.split(',').map((x) => parseLiteral(x));
  }
  if (/^-?\d+$/.test(t)) return Number(t);
  if (t === 'null') return null;
  return t;
}

/**
 * Reads the argument list of `users(...)`: values are literals or $variables.
 * @param {string} args
 * @param {Record<string, unknown>} variables
 * @returns {Record<string, unknown>}
 */
function readArgs(args, variables) {
  /** @type {Record<string, unknown>} */
  const out = {};
  const re = /(\w+)\s*:\s*(\$\w+|"(?:[^"\\]|\\.)*"|\[[^\]]*\]|[-\w.]+)/g;
  for (const m of args.matchAll(re)) {
    const name = /** @type {string} */ (m[1]);
    const raw = /** @type {string} */ (m[2]);
    out[name] = raw.startsWith('$') ? variables[raw.slice(1)] : parseLiteral(raw);
  }
  return out;
}

/**
 * Field names selected directly inside `nodes { ... }` (nested selections skipped); null when not found.
 * @param {string} query
 * @returns {Set<string> | null}
 */
function nodeFields(query) {
  const at = query.search(/nodes\s*\{/);
  if (at < 0) return null;
  let i = query.indexOf('{', at) + 1;
  let depth = 1;
  let top = '';
  for (; i < query.length && depth > 0; i++) {
    const c = query[i];
    if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (depth === 1) top += c;
  }
  const names = top.split(/[\s,]+/).filter((w) => /^[A-Za-z_]\w*$/.test(w));
  return new Set(names);
}

/** @param {number} id */
const encodeCursor = (id) => Buffer.from(JSON.stringify({ id: String(id) })).toString('base64');
/** @param {string} c */
function decodeCursor(c) {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64').toString('utf8'));
    const n = Number(v?.id);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** @param {string} message */
const gqlError = (message) => ({ status: 200, body: { errors: [{ message, locations: [{ line: 1, column: 1 }] }] } });

/**
 * Answers one GraphQL request body.
 * @param {unknown} payload parsed JSON body
 * @param {{ users: User[], usersById: Map<number, User> }} data
 * @returns {GraphqlAnswer}
 */
export function answerGraphql(payload, data) {
  if (!payload || typeof payload !== 'object') return { status: 400, body: { errors: [{ message: 'No query string was present' }] } };
  const { query, variables } = /** @type {{ query?: unknown, variables?: unknown }} */ (payload);
  if (typeof query !== 'string' || !query.trim()) return { status: 400, body: { errors: [{ message: 'No query string was present' }] } };
  const vars = variables && typeof variables === 'object' ? /** @type {Record<string, unknown>} */ (variables) : {};
  const call = /users\s*\(([^)]*)\)/.exec(query);
  if (!call) return gqlError('The GitLab simulator only answers users(ids: ...) queries');
  const args = readArgs(/** @type {string} */ (call[1]), vars);
  if (args.ids !== undefined && args.usernames !== undefined) return gqlError('Provide either a list of usernames or ids');
  /** @type {User[]} */
  let found;
  if (args.ids !== undefined && args.ids !== null) {
    const ids = Array.isArray(args.ids) ? args.ids : [args.ids];
    /** @type {number[]} */
    const nums = [];
    for (const gid of ids) {
      const m = typeof gid === 'string' ? /^gid:\/\/gitlab\/User\/(\d+)$/.exec(gid) : null;
      if (!m) return gqlError(`${JSON.stringify(gid)} is not a valid Global ID`);
      nums.push(Number(m[1]));
    }
    found = [...new Set(nums)].map((n) => data.usersById.get(n)).filter((u) => u !== undefined);
  } else if (args.usernames !== undefined && args.usernames !== null) {
    const names = new Set((Array.isArray(args.usernames) ? args.usernames : [args.usernames]).map((s) => String(s).toLowerCase()));
    found = data.users.filter((u) => names.has(u.username.toLowerCase()));
  } else {
    found = data.users.slice();
  }
  found.sort((a, b) => a.id - b.id);
  const first = typeof args.first === 'number' ? Math.max(0, Math.min(args.first, MAX_PAGE)) : MAX_PAGE;
  let start = 0;
  if (typeof args.after === 'string' && args.after) {
    const afterId = decodeCursor(args.after);
    if (afterId === null) return gqlError('Please provide a valid cursor');
    start = found.findIndex((u) => u.id > afterId);
    if (start < 0) start = found.length;
  }
  const page = found.slice(start, start + first);
  const fields = nodeFields(query);
  const nodes = page.map((u) => {
    const full = graphqlUser(u);
    if (!fields) return full;
    /** @type {Record<string, unknown>} */
    const out = {};
    for (const f of fields) if (f in full) out[f] = full[f];
    return out;
  });
  const last = page[page.length - 1];
  return {
    status: 200,
    body: {
      data: {
        users: {
          nodes,
          pageInfo: {
            hasNextPage: start + first < found.length,
            hasPreviousPage: start > 0,
            startCursor: page[0] ? encodeCursor(page[0].id) : null,
            endCursor: last ? encodeCursor(last.id) : null,
          },
        },
      },
    },
  };
}
