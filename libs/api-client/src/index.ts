export * from './api-client';
export { ApiError, type ListFilter } from './api-transport';
export * from './log-entry';
export { serviceBindingResultSchema, type ServiceBindingResult } from './services-client';
export * from './sse';
export type { ServiceBrokerRequest, UserProvidedInstanceRequest } from './brokers-client';
