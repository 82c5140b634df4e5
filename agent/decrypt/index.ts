// The decrypt stage's public surface: reading a Logstore back (engine, key ring, filters, output, consumer group membership) and the --where language.
export { ConsumerGroupGoneError, ConsumerGroupMember, type ConsumerGroupApi, type ConsumerGroupMemberOptions, type ShardEngine } from './consumer-group.js';
export { DecryptEngine, type DecryptEngineOptions, type EngineStats, type ShardRange } from './engine.js';
export { CursorError, DeadLetterProjectError, UnsealError } from './errors.js';
export { DataKeyRing } from './key-ring.js';
export { GroupNotOpened, missingBlobs, openShippedLines, type KeyLookup, type RenderedGroups, type SealedFor } from './open-groups.js';
export { renderShipped } from './open-page.js';
export { openAtomic, type AtomicFile } from './out-file.js';
export type { PlainLogLine } from './plain-log.js';
export { startProgress } from './progress.js';
export { SealedLogReader, type DecryptRange } from './reader.js';
export { compileView, viewExpr, type CompiledView, type OutputFormat, type ReadView } from './view.js';
export { compileWhere, compileWhereLookup, parseWhere, plainField, whereFields, WhereSyntaxError, type FieldLookup, type WhereExpr } from './where.js';
