import type { TapConfig } from '../../lib/config.js';
import { BASE, TOKEN } from './fake-gitlab.js';

/** A complete normalised config for module tests (no parsing involved). */
export function testConfig(over: Partial<TapConfig> = {}): TapConfig {
  return {
    token: TOKEN,
    tokenType: 'private',
    baseUrl: BASE,
    apiUrl: `${BASE}/api/v4`,
    autoDiscoverProjects: true,
    projectNamePatterns: ['*'],
    includePrivateProjects: true,
    includeArchivedProjects: false,
    maxProjectsToSync: null,
    projectIds: [],
    startDate: null,
    syncProjectsTable: true,
    syncMergeRequestsTable: true,
    syncUsersTable: true,
    maxRecordsPerSync: null,
    syncIntervalHours: 0,
    pageSize: 100,
    concurrency: 1,
    requestTimeoutMs: 1000,
    maxRetries: 0,
    userAgent: 'tap-gitlab/test',
    discoveryCacheMinutes: 60,
    userEnrichment: 'graphql',
    lookbackMinutes: 0,
    ...over,
  };
}
