// The search stage: finds sealed logs by searchable fields (FORMAT.md "Searchable fields") with GetLogs, then decrypts and filters them.
export { ensureTokenIndex, INDEX_TAG_KEY } from './sls-index.js';
export { narrowingQuery, type Narrowing } from './narrowing.js';
export { SealedLogSearch, type SearchRange, type KeyCheck } from './search.js';
