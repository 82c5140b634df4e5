// The input stage's entry point: what other stages import to follow log files.
export { FileInput, type FileInputOptions } from './file-input.js';
export { InputConfigError } from './input-config.js';
export { SPLIT_KEY } from './tailer.js';
export { CONTENT_KEY, PARSE_ERROR_KEY } from './parser.js';
export type {
  FileCheckpoint,
  FileIdentity,
  InputConfig,
  InputEvent,
  InputFile,
  InputRun,
  InputStats,
  MultilineConfig,
  ParserConfig,
} from './types.js';
