/**
 * heros-archiver's public API. Named one by one: what is not here is internal.
 */
export { Boss, prepareActors } from './boss.js';
export type { BossOptions, ActorStatus, ActorState, PreparedActor, ReloadResult, StartOptions } from './boss.js';
export { EventObserver } from './observer.js';
export type { EventObserverOptions, ActorContext, SampleInfo } from './observer.js';
export { DataArchiver } from './archiver.js';
export type { DataArchiverOptions, Metadata, StoreContext, ArchiverStats } from './archiver.js';
export { FileArchiver } from './file-archiver.js';
export type { FileArchiverOptions } from './file-archiver.js';
export { ArrayArchiver } from '../actors/array-archiver.js';
export type { ArrayArchiverOptions } from '../actors/array-archiver.js';
export { JsonArchiver } from '../actors/json-archiver.js';
export type { JsonArchiverOptions } from '../actors/json-archiver.js';
export { ArchiverError, ConfigError, UnrecoverableError, ERROR_CODES } from './errors.js';
export type { ErrorCode, ConfigProblem } from './errors.js';
export { parseManifests, readManifestFiles } from './manifest.js';
export type { ManifestEntry, ManifestDocument } from './manifest.js';
export { MemoryBus } from './bus/memory.js';
export type { MemoryReply } from './bus/memory.js';
export { QueryReplyError } from './bus/bus.js';
export type { Bus, Sample, SampleHandler, Subscription, BusEvent, Query, QueryHandler, QueryableOptions, Declaration } from './bus/bus.js';
export { exposeHero, bindArguments, heroNameProblem } from './heros/hero-server.js';
export type { HeroSpec, HeroMethod, HeroParameter, ParameterKind, BoundArguments, ExposedHero } from './heros/hero-server.js';
export { exposeBoss, uniqueInstanceName } from './boss-hero.js';
export type { BossControl, BossActorView, ExposeBossOptions, ExposedBoss } from './boss-hero.js';
export { DeadLetterStore } from './dead-letter.js';
export type { DeadLetterRecord, DeadLetterEntry } from './dead-letter.js';
export { compileTemplate } from './template.js';
export type { CompiledTemplate } from './template.js';
export { decodeHeros, encodeHeros } from './heros/cbor.js';
export { NdArray, PyFloat, PyDateTime, HeroRef, Tagged, pyFloat, toNumber } from './heros/values.js';
export type { PyValue } from './heros/values.js';
export type { OptionsSchema, OptionSpec } from './options.js';
export { createLogger } from './log.js';
