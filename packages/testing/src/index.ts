// Everything at once; a test usually imports the one module it needs (`@platform/testing/<module>`),
// which loads only that module's dependencies.
export * from './browser.ts';
export * from './build.ts';
export * from './fakes.ts';
export * from './fixtures.ts';
export * from './git-http-server.ts';
export * from './github.ts';
export * from './http.ts';
export * from './infra-env.ts';
export * from './kafka.ts';
export * from './log-client.ts';
export * from './moto.ts';
export * from './pebble.ts';
export * from './platform.ts';
export * from './ports.ts';
export * from './processes.ts';
export * from './proxy.ts';
export * from './sandbox.ts';
