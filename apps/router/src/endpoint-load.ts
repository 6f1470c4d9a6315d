/**
 * Requests and WebSockets in flight per endpoint (by instance id), in this router process; read
 * by least-connections balancing. `acquire` when a request is handed to an instance, call the
 * returned release once it is over (calling it twice is harmless).
 */
export class EndpointLoad {
  private readonly counts = new Map<string, number>();

  of(instanceId: string): number {
    return this.counts.get(instanceId) ?? 0;
  }

  acquire(instanceId: string): () => void {
    this.counts.set(instanceId, this.of(instanceId) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.of(instanceId) - 1;
      if (left > 0) this.counts.set(instanceId, left);
      else this.counts.delete(instanceId);
    };
  }
}
