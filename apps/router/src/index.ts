export { loadRouterConfig, type RouterConfig, type LogLevel } from './config';
export { startRouter, type RouterDeps, type RunningRouter } from './router';
export { RouteTable, type Clock, type Route, type RouteLookup } from './route-table';
export { RouterErrorCode } from './router-error';
