/** @type {import('jest').Config} */
module.exports = {
  // a run leaves no new 32-hex folder at the repository root (miniprogram-ci's compiler cache, now in the temp folder)
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  // a failure names the seed of the local database's tie order, to replay it
  reporters: ['default', '<rootDir>/test/support/tie-seed-reporter.js'],
  projects: [
    {
      displayName: 'server',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/server/**/*.test.ts'],
      transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', diagnostics: false }] },
      // cloud functions run on the local cloud's wx-server-sdk, as the function host arranges outside jest
      moduleNameMapper: { '^wx-server-sdk$': '<rootDir>/localcloud/wx-server-sdk.ts' },
    },
    {
      displayName: 'miniprogram',
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/test/miniprogram/**/*.test.ts'],
      // TDesign ships ES modules: they are transformed too
      transform: { '^.+\\.(ts|js)$': ['ts-jest', { tsconfig: 'tsconfig.mptest.json', diagnostics: false }] },
      transformIgnorePatterns: ['/node_modules/(?!tdesign-miniprogram/)'],
      setupFiles: ['<rootDir>/test/miniprogram/setup.ts'],
      snapshotSerializers: ['miniprogram-simulate/jest-snapshot-plugin'],
    },
  ],
};
