import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Two cores: at most two files at once (integration files each own their sandbox targets).
    maxWorkers: 2,
    minWorkers: 1,
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
          // Targets are real containers; each file owns its targets.
          testTimeout: 900_000,
          hookTimeout: 900_000,
          globalSetup: ['test/integration/global-setup.ts'],
        },
      },
    ],
  },
});
