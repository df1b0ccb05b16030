// Two projects: `unit` (pure logic, no servers) and `integration` (real ZooKeeper
// and PostgreSQL started by the test harness). Integration files end in
// `.int.test.ts`; everything else named `*.test.ts` is a unit test.
const esmDependencies = [
  '@nestjs',
  'file-type',
  'strtok3',
  'token-types',
  'uint8array-extras',
  '@tokenizer',
  'load-esm',
  // Nest's Fastify adapter (@fastify/middie, and @fastify/static for the OpenAPI UI)
  // requires these ES modules.
  '@fastify',
  'path-to-regexp',
  'content-disposition',
];

const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmDependencies.join('|')})/)`],
  moduleNameMapper: {
    '^@app/zk$': '<rootDir>/libs/zk/src',
    '^@app/zk/(.*)$': '<rootDir>/libs/zk/src/$1',
    '^@app/contracts$': '<rootDir>/libs/contracts/src',
    '^@app/contracts/(.*)$': '<rootDir>/libs/contracts/src/$1',
    '^@app/common$': '<rootDir>/libs/common/src',
    '^@app/common/(.*)$': '<rootDir>/libs/common/src/$1',
    '^@app/audit$': '<rootDir>/libs/audit/src',
    '^@app/audit/(.*)$': '<rootDir>/libs/audit/src/$1',
    '^@app/store$': '<rootDir>/libs/store/src',
    '^@app/store/(.*)$': '<rootDir>/libs/store/src/$1',
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

module.exports = {
  testTimeout: 30_000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.test.ts'],
      testPathIgnorePatterns: [...shared.testPathIgnorePatterns, '\\.int\\.test\\.ts$'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.int.test.ts'],
      slowTestThreshold: 60,
    },
  ],
};
