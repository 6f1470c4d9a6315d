/** What the router's GET /health answers: `ok` once the route table has been read in full, else `starting` (503). */
export interface RouterHealth {
  status: 'ok' | 'starting';
  /** Hosts with routes. */
  routes: number;
  /** Ms since the last full read of the table from Redis; absent before the first. */
  table_age_ms?: number;
  /** The router process that answered (several may share a port). */
  pid: number;
}
