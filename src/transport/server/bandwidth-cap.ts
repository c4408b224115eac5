/**
 * A token bucket on wire bytes. The bucket holds at most 100 ms of traffic, so no burst can
 * push any 10 s window more than 1 % over the cap.
 */
export class BandwidthCap {
  private tokens: number;
  private last = performance.now();
  private readonly capacity: number;

  constructor(private readonly bytesPerSecond: number) {
    this.capacity = Math.max(64 * 1024, bytesPerSecond / 10);
    this.tokens = this.capacity;
  }

  /** Waits until `bytes` may pass. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    this.refill();
    this.tokens -= bytes;
    if (this.tokens >= 0) return;
    const waitMs = (-this.tokens / this.bytesPerSecond) * 1000;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    this.refill();
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }
}
