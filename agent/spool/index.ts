// Public surface of the disk spool.
export { Spool, SpoolFullError, SpoolError, SPOOL_PRELOAD, type SpoolEntry, type SpoolOptions } from './spool.js';
export { errorCode, syncDirectory, writeDurably } from './durable.js';
