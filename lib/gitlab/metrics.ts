/**
 * Request metrics per endpoint, for the end-of-run summary and debug logs. An endpoint is the
 * request path relative to the API root with ids replaced by `:id` (`/projects/:id/merge_requests`).
 */

export interface EndpointMetrics {
  requests: number;
  retries: number;
  /** 429 answers. */
  rateLimited: number;
  /** Answers that were not 2xx/3xx, and network failures. */
  errors: number;
  bytes: number;
  totalMs: number;
}

function emptyMetrics(): EndpointMetrics {
  return { requests: 0, retries: 0, rateLimited: 0, errors: 0, bytes: 0, totalMs: 0 };
}

/** `/api/v4/projects/42/merge_requests` → `/projects/:id/merge_requests`; numeric and url-encoded-path segments become `:id`. */
export function endpointOf(pathname: string, apiPath = '/api/v4'): string {
  let p = pathname;
  if (apiPath !== '' && (p === apiPath || p.startsWith(`${apiPath}/`))) p = p.slice(apiPath.length);
  const segments = p.split('/').map((s) => (/^\d+$/.test(s) || /%2F/i.test(s) ? ':id' : s));
  const out = segments.join('/');
  return out === '' ? '/' : out;
}

/** Counters for one client: totals plus one entry per endpoint. */
export class ClientMetrics implements EndpointMetrics {
  requests = 0;
  retries = 0;
  rateLimited = 0;
  errors = 0;
  bytes = 0;
  totalMs = 0;
  readonly byEndpoint: Record<string, EndpointMetrics> = {};

  #entry(endpoint: string): EndpointMetrics {
    let e = this.byEndpoint[endpoint];
    if (!e) {
      e = emptyMetrics();
      this.byEndpoint[endpoint] = e;
    }
    return e;
  }

  /** One HTTP exchange finished (any status). */
  recordResponse(endpoint: string, status: number, bytes: number, ms: number): void {
    const e = this.#entry(endpoint);
    for (const m of [this, e]) {
      m.requests += 1;
      m.bytes += bytes;
      m.totalMs += ms;
      if (status === 429) m.rateLimited += 1;
      if (status >= 400) m.errors += 1;
    }
  }

  /** One request failed below HTTP (DNS, reset, timeout). */
  recordNetworkError(endpoint: string, ms: number): void {
    const e = this.#entry(endpoint);
    for (const m of [this, e]) {
      m.requests += 1;
      m.errors += 1;
      m.totalMs += ms;
    }
  }

  /** A request is about to be sent again. */
  recordRetry(endpoint: string): void {
    this.retries += 1;
    this.#entry(endpoint).retries += 1;
  }

  /** A plain copy, for JSON summaries. */
  snapshot(): EndpointMetrics & { byEndpoint: Record<string, EndpointMetrics> } {
    const byEndpoint: Record<string, EndpointMetrics> = {};
    for (const [k, v] of Object.entries(this.byEndpoint)) byEndpoint[k] = { ...v };
    return { requests: this.requests, retries: this.retries, rateLimited: this.rateLimited, errors: this.errors, bytes: this.bytes, totalMs: this.totalMs, byEndpoint };
  }
}
