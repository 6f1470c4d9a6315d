// Test fixtures only: lint forbids production code to import @paas/testing (eslint.config.mjs).
export * from './npm-registry-fixture';
export * from './redis-server';
export * from './http-backends';
export * from './osb-broker';
export * from './pebble';
export * from './fake-dns';
