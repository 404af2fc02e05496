/**
 * RFC 8288 `Link` header parsing: `<url>; rel="next", <url>; rel="first"`.
 * URLs are taken between angle brackets, so commas inside a URL do not split it.
 */

/** Parses a Link header into a map from relation name (lower-case) to URL. First one wins. */
export function parseLinkHeader(header: string | null | undefined): Map<string, string> {
  const links = new Map<string, string>();
  if (!header) return links;
  const entry = /<([^>]*)>([^<]*)/g;
  for (const match of header.matchAll(entry)) {
    const url = (match[1] ?? '').trim();
    const params = match[2] ?? '';
    const rel = /(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const relValue = rel?.[1] ?? rel?.[2];
    if (!relValue || url === '') continue;
    for (const name of relValue.trim().toLowerCase().split(/\s+/)) {
      if (!links.has(name)) links.set(name, url);
    }
  }
  return links;
}

/** The `rel="next"` URL of a Link header, or null. */
export function nextLink(header: string | null | undefined): string | null {
  return parseLinkHeader(header).get('next') ?? null;
}
