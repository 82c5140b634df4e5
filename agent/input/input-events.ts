// The input's events for its observer; an error is reported once per path until that path works again.
import type { InputEvent } from './types.js';

export class InputEvents {
  private readonly reported = new Map<string, string>();

  constructor(private readonly onEvent: (e: InputEvent) => void) {}

  emit(e: InputEvent): void {
    try {
      this.onEvent(e);
    } catch {
      // A failing observer must not stop the input.
    }
  }

  /** Errors are reported once per path until the path works again, not on every scan. */
  report(p: string, message: string): void {
    if (this.reported.get(p) === message) return;
    this.reported.set(p, message);
    this.emit({ type: 'error', path: p, message });
  }

  clearReport(p: string): void {
    this.reported.delete(p);
  }
}
