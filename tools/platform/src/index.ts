export * from './platform';
export * from './wait';
export * from './process-supervisor';
export * from './isolated-platform';
export * from './git-client';
