export * from './api-client';
export * from './log-entry';
export * from './sse';
