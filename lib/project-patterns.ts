/**
 * Project name patterns: globs matched with minimatch, case-insensitively.
 * - A pattern without `/` matches a project's `path` or its `name`.
 * - A pattern with `/` matches `path_with_namespace` (so `group/sub/**` works).
 * - A pattern starting with `!` excludes what it matches; with only exclusions, everything else is included.
 */
import { minimatch } from 'minimatch';

export interface PatternSubject {
  path: string;
  name: string;
  path_with_namespace: string;
}

export interface PatternSet {
  include: string[];
  exclude: string[];
}

export function parsePatterns(patterns: readonly string[]): PatternSet {
  const include: string[] = [];
  const exclude: string[] = [];
  for (const raw of patterns) {
    const p = raw.trim();
    if (p === '') continue;
    if (p.startsWith('!')) exclude.push(p.slice(1));
    else include.push(p);
  }
  if (include.length === 0) include.push('*');
  return { include, exclude };
}

function matchesOne(subject: PatternSubject, pattern: string): boolean {
  const opts = { nocase: true, dot: true } as const;
  if (pattern.includes('/')) return minimatch(subject.path_with_namespace, pattern, opts);
  return minimatch(subject.path, pattern, opts) || minimatch(subject.name, pattern, opts);
}

/** Returns the first include pattern that matches, or null; exclusions win over inclusions. */
export function matchProject(subject: PatternSubject, set: PatternSet): { matched: boolean; by: string } {
  const excludedBy = set.exclude.find((p) => matchesOne(subject, p));
  if (excludedBy !== undefined) return { matched: false, by: `!${excludedBy}` };
  const includedBy = set.include.find((p) => matchesOne(subject, p));
  if (includedBy !== undefined) return { matched: true, by: includedBy };
  return { matched: false, by: set.include.join(', ') };
}

/**
 * A literal part (3+ characters) that every matching project must contain in its path or name,
 * sent to GitLab as `search` to shrink the listing. Only for a single include pattern: GitLab
 * ANDs search terms, so several patterns cannot share one search. None for a pattern with
 * alternatives or classes (`{a,b}`, `@(a|b)`, `[ab]`) or escapes: a literal inside them is not
 * in every match. One word only: GitLab splits a search on spaces and `+`, and a search whose
 * words are all under 3 characters asks for an exact match, no longer a superset.
 */
export function searchHint(set: PatternSet): string | null {
  if (set.include.length !== 1) return null;
  const pattern = set.include[0] ?? '';
  const lastSegment = pattern.includes('/') ? (pattern.split('/').pop() ?? '') : pattern;
  if (/[{}()[\]|,\\]/.test(lastSegment)) return null;
  const words = lastSegment.split(/[*?!+@\s]+/).filter((s) => s.length >= 3);
  if (words.length === 0) return null;
  // The longest word narrows the most; GitLab's search ignores case.
  return words.reduce((a, b) => (b.length > a.length ? b : a));
}
