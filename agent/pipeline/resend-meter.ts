// Counts the lines a restart reads again although the previous run may have sent them to SLS: at-least-once made visible.
import type { FileCheckpoint } from '../checkpoint/index.js';
import type { InputRun } from '../input/index.js';

/**
 * A checkpoint records, beside the acknowledged offset, how far the run that saved it had read (`readTo`): the lines
 * between the two were in batches being sealed or sent. After a restart, a line read again below that mark may be in
 * SLS already (its acknowledgement was lost with the process, or the request was on its way). An estimate of what is
 * sent twice, not a count: a batch still being sealed never left, and lines read after the last save are not known.
 */
export class ResendMeter {
  private readonly readTo = new Map<string, number>();

  constructor(saved: Iterable<FileCheckpoint>) {
    for (const cp of saved) if (cp.readTo !== undefined && cp.readTo > cp.offset) this.readTo.set(cp.fileId, cp.readTo);
  }

  /** How many of the run's lines start below the previous run's read mark. */
  count(run: InputRun): number {
    const mark = this.readTo.get(run.fileId);
    if (mark === undefined) return 0;
    let n = 0;
    let start = run.startOffset;
    while (n < run.count && start < mark) start = run.offsets[n++]!;
    if (n === run.count && start < mark) return n;
    // Past the mark: nothing later in this file was read before.
    this.readTo.delete(run.fileId);
    return n;
  }
}
