// Public surface of the checkpoint stage.
export { CheckpointStore, CheckpointError, type FileCheckpoint, type CheckpointStoreOptions } from './store.js';
export { AckTracker } from './ack-tracker.js';
export { SaveScheduler } from './save-scheduler.js';
