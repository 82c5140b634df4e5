import { describe, expect, it } from 'vitest';
import { Batcher, estimateLogBytes, type BatchEntry } from '../../agent/batch/batcher.js';

function entry(i: number, over: Partial<BatchEntry> = {}): BatchEntry {
  return {
    log: { time: 1700000000 + i, contents: [{ key: 'content', value: `line ${i}` }] },
    topic: 'app',
    source: 'host',
    tags: [{ key: '__path__', value: '/var/log/a.log' }],
    fileId: 'f1',
    endOffset: (i + 1) * 10,
    ...over,
  };
}

describe('Batcher', () => {
  it('flushes a group when it reaches maxLogs, keeping entry order and the last end offset per file', () => {
    const b = new Batcher({ maxBytes: 1 << 20, maxLogs: 3, lingerMs: 1000 });
    expect(b.add(entry(0))).toEqual([]);
    expect(b.add(entry(1))).toEqual([]);
    const [batch] = b.add(entry(2));
    expect(batch.group.logs.map((l) => l.contents[0].value)).toEqual(['line 0', 'line 1', 'line 2']);
    expect(batch.ends.get('f1')).toBe(30);
    expect(batch.counts.get('f1')).toBe(3);
    expect(batch.group.topic).toBe('app');
    expect(batch.group.logTags).toEqual([{ key: '__path__', value: '/var/log/a.log' }]);
    expect(b.openLogs).toBe(0);
  });

  it('flushes before a log would push the group over maxBytes', () => {
    const size = estimateLogBytes(entry(0).log);
    const b = new Batcher({ maxBytes: size * 2 + 1, maxLogs: 4096, lingerMs: 1000 });
    b.add(entry(0));
    b.add(entry(1));
    const flushed = b.add(entry(2));
    expect(flushed).toHaveLength(1);
    expect(flushed[0].group.logs).toHaveLength(2);
    expect(b.openLogs).toBe(1);
  });

  it('keeps separate groups per topic, source and tags', () => {
    const b = new Batcher({ maxBytes: 1 << 20, maxLogs: 10, lingerMs: 1000 });
    b.add(entry(0));
    b.add(entry(1, { topic: 'other' }));
    b.add(entry(2, { tags: [{ key: '__path__', value: '/var/log/b.log' }], fileId: 'f2' }));
    const all = b.flushAll();
    expect(all).toHaveLength(3);
    expect(new Set(all.map((x) => x.id)).size).toBe(3);
    expect(all.find((x) => x.group.topic === 'other')!.group.logs).toHaveLength(1);
  });

  it('releases groups after their linger time', () => {
    let t = 0;
    const b = new Batcher({ maxBytes: 1 << 20, maxLogs: 10, lingerMs: 500 }, () => t);
    b.add(entry(0));
    t = 200;
    b.add(entry(1, { topic: 'late' }));
    expect(b.msUntilDue()).toBe(300);
    t = 499;
    expect(b.due()).toEqual([]);
    t = 500;
    const due = b.due();
    expect(due.map((x) => x.group.topic)).toEqual(['app']);
    expect(b.msUntilDue()).toBe(200);
  });

  it('refuses a maxLogs above the SLS limit', () => {
    expect(() => new Batcher({ maxBytes: 1, maxLogs: 5000, lingerMs: 1 })).toThrow(/4096/);
  });
});
