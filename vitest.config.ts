import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Targets are real containers; each file owns its targets. Two cores: two files at once.
          testTimeout: 600_000,
          hookTimeout: 600_000,
          maxWorkers: 2,
          minWorkers: 1,
          globalSetup: ['test/integration/global-setup.ts'],
        },
      },
    ],
  },
});
