// The application-facing API. It loads neither Piscina nor the runtime nor any loader, and
// never changes the process it runs in, so a web app that only dispatches stays as it was; the
// one store driver in use loads on first dispatch.
export { Job, type DispatchOptions, type DispatchResult, type JobContext, type RateLimit } from './job.js';
export type { ConcurrencyOption, KeySource, RateOption, UniqueOption, UniqueOptions } from './values/flow-options.js';
export type { ExponentialBackoff, RetryAfterFunction, RetryAfterInput } from './values/retry-policy.js';
export { close, configure, openProducer, useStore } from './dispatcher.js';
export { schedule, unschedule, type ScheduleOptions } from './schedules/api.js';
export { waitFor, type JobOutcome, type WaitForOptions } from './outcomes/wait-for.js';
export { jobEvents, type JobEvent, type JobEventsOptions } from './outcomes/job-events.js';
export type { ScheduleSpec, StaticSchedule } from './schedules/definition.js';
export { openStore, DEFAULT_DATABASE_URL } from './stores/open-store.js';
export { resolveConfig, type JobsConfig } from './config.js';
export { InvalidInputError, PermanentFailure, StoreUnavailableError, HandlerNotFoundError, InvalidPayloadError, JobWaitTimeoutError } from './errors.js';
export type {
  Admin,
  JobId,
  JobStore,
  JobRecord,
  Producer,
  Queue,
  QueueCounts,
  Registry,
  NewJob,
  ClaimedJob,
  JobResult,
  StoreCapabilities,
  Enqueued,
  MisfirePolicy,
  ScheduleDefinition,
  ScheduleRecord,
  OutcomeEvent,
  OutcomeReader,
} from './stores/store.js';
export type { DelayInput } from './values/duration.js';
export type { JsonValue, JsonObject, JsonPayload } from './values/json.js';
