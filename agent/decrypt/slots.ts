// A counting semaphore: how many pieces of work may be pulled but not yet written, and the peak reached.

export class Slots {
  private used = 0;
  private highest = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** The most slots ever in use at once. */
  get peak(): number {
    return this.highest;
  }

  acquire(): Promise<void> {
    if (this.used < this.limit) {
      this.take();
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.take();
        resolve();
      }),
    );
  }

  release(): void {
    this.used--;
    this.waiting.shift()?.();
  }

  private take(): void {
    this.used++;
    if (this.used > this.highest) this.highest = this.used;
  }
}
