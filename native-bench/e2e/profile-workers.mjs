// Preload for the profiled agent run: makes every worker thread write its own --cpu-prof profile too.
// The seal pool starts its workers with an explicit (empty) execArgv, so they would not inherit the main thread's
// --cpu-prof; this adds it. Used as: node --cpu-prof --cpu-prof-dir D --import ./profile-workers.mjs <cli> run …
import workerThreads from 'node:worker_threads';

const dir = process.env.LOGSEAL_BENCH_PROFILE_DIR;
if (dir) {
  const Original = workerThreads.Worker;
  workerThreads.Worker = class ProfiledWorker extends Original {
    constructor(filename, options = {}) {
      super(filename, { ...options, execArgv: [...(options.execArgv ?? []), '--cpu-prof', '--cpu-prof-dir', dir] });
    }
  };
}
