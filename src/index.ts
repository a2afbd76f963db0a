// The application-facing API. It loads neither Piscina nor the runtime, so a web app that only
// dispatches stays light; store drivers load on first dispatch.
export { Job, type DispatchOptions, type JobContext } from './job.js';
export { close, useStore } from './default-store.js';
export { openStore, DEFAULT_DATABASE_URL } from './stores/open-store.js';
export { resolveConfig, type JobsConfig } from './config.js';
export { InvalidInputError, PermanentFailure, StoreUnavailableError, HandlerNotFoundError, InvalidPayloadError } from './errors.js';
export type { JobId, JobStore, JobRecord, QueueCounts, NewJob, ClaimedJob, JobResult } from './stores/store.js';
export type { DelayInput } from './values/duration.js';
export type { JsonValue, JsonObject, JsonPayload } from './values/json.js';
