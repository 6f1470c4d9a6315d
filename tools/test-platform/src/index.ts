export * from './isolated-platform';
export * from './git-client';
export * from './simulated-hosts';
export * from './sample-apps';
export { sweepAbandonedPlatforms } from './abandoned-platforms';
export * from './osb-broker';
