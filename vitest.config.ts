import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/e2e/v1-client is a separate package (the official v1 client and its dependencies).
    exclude: [...configDefaults.exclude, 'test/e2e/v1-client/**'],
    // Sockets on loopback and a shared devnet: keep per-test time bounded and files isolated.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // 2-core machines: e2e files that share a chain run one at a time (see test/e2e).
    maxWorkers: 2,
  },
});
