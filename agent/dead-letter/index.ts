// The dead-letter stage's public surface: where batches SLS refuses for good are kept, and how those files read.
export { DeadLetterDir, DeadLetterError, DEAD_LETTER_SUFFIX, type DeadLetterOptions, type DeadLetterOutcome } from './dead-letter.js';
export { DeadLetterFormatError, decodeDeadLetterFile, type DeadLetterMeta } from './entry-file.js';
