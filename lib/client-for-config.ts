/** The one place a GitLabClient is built from the tap's config (sync, --test, --list-projects). */
import type { Clock } from './clock.js';
import type { TapConfig } from './config.js';
import { GitLabClient } from './gitlab/client.js';
import type { Logger } from './log.js';

export interface ClientDeps {
  logger: Logger;
  fetch: typeof fetch;
  clock: Clock;
  signal: AbortSignal;
}

export function clientForConfig(config: TapConfig, deps: ClientDeps): GitLabClient {
  return new GitLabClient({
    apiUrl: config.apiUrl,
    token: config.token,
    tokenType: config.tokenType,
    userAgent: config.userAgent,
    timeoutMs: config.requestTimeoutMs,
    maxRetries: config.maxRetries,
    concurrency: config.concurrency,
    fetch: deps.fetch,
    clock: deps.clock,
    logger: deps.logger,
    signal: deps.signal,
  });
}
