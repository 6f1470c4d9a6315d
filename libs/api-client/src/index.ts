export * from './api-client';
export { ApiError, type ListFilter } from './api-transport';
export * from './log-entry';
export * from './sse';
