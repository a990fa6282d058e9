/** @type {import('jest').Config} */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.test.json', diagnostics: false }];
module.exports = {
  projects: [
    {
      displayName: 'server',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/server/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      // cloud functions run on the local cloud's wx-server-sdk, as the function host arranges outside jest
      moduleNameMapper: { '^wx-server-sdk$': '<rootDir>/localcloud/wx-server-sdk.ts' },
    },
  ],
};
