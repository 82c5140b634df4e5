// Which live consumer of a group should hold which shard: an even split that moves as few shards as possible.

/**
 * Every consumer gets floor(n/k) or ceil(n/k) of the n shards; consumers that own more shards get the larger
 * quotas first, so a balanced group stays as it is. A consumer keeps up to its quota of the shards it owns
 * (lowest ids first) and the shards left over go, lowest ids first, to consumers below their quota.
 */
export function balanceShards(shards: readonly number[], owners: ReadonlyMap<number, string>, consumers: readonly string[]): Map<string, number[]> {
  const target = new Map<string, number[]>();
  if (consumers.length === 0) return target;
  const owned = new Map<string, number[]>(consumers.map((c) => [c, []]));
  for (const s of [...shards].sort((a, b) => a - b)) {
    const owner = owners.get(s);
    if (owner !== undefined) owned.get(owner)?.push(s);
  }
  const order = [...consumers].sort((a, b) => owned.get(b)!.length - owned.get(a)!.length || (a < b ? -1 : a > b ? 1 : 0));
  const base = Math.floor(shards.length / order.length);
  const extra = shards.length % order.length;
  const quota = new Map(order.map((c, i) => [c, base + (i < extra ? 1 : 0)]));
  const placed = new Set<number>();
  for (const c of order) {
    const keep = owned.get(c)!.slice(0, quota.get(c)!);
    for (const s of keep) placed.add(s);
    target.set(c, keep);
  }
  const pool = [...shards].filter((s) => !placed.has(s)).sort((a, b) => a - b);
  for (const c of order) {
    const mine = target.get(c)!;
    while (mine.length < quota.get(c)! && pool.length > 0) mine.push(pool.shift()!);
    mine.sort((a, b) => a - b);
  }
  return target;
}
