// Public surface of the disk spool.
export { Spool, SpoolFullError, SpoolError, type SpoolEntry, type SpoolOptions } from './spool.js';
