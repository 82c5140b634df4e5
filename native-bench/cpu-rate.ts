// How the single-thread benchmarks measure: CPU time of this process, and MB per CPU-second of a function as the
// median of five slices after a warm-up. Other processes share this machine's CPUs, so CPU time is the steadier
// measure of cost; wall time is shown where waiting is the point.
const MB = 1e6;

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** CPU time of the whole process (every thread), in ms. */
export const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** MB per CPU-second of single-threaded `f`, which processes `bytes` per call, over about `minMs` (half of it warm-up). */
export function rate(bytes: number, f: () => void, minMs: number): number {
  const warm = performance.now();
  do f();
  while (performance.now() - warm < minMs / 2);
  const samples: number[] = [];
  for (let s = 0; s < 5; s++) {
    let n = 0;
    const start = performance.now(), cpu = cpuMs();
    do {
      f();
      n++;
    } while (performance.now() - start < minMs / 5);
    samples.push((n * bytes) / MB / ((cpuMs() - cpu) / 1000));
  }
  return median(samples);
}
