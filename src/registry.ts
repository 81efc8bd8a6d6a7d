/**
 * Resolving a manifest `classname` to an actor class, the way pino resolves a transport
 * `target`: built-in names first (including herostools' Python names, so existing BOSS
 * manifests run unchanged), then a module path relative to the manifest, then an installed
 * package. `#Name` picks a named export; without it the default export is used.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ArrayArchiver } from '../actors/array-archiver.js';
import { ArrowArchiver } from '../actors/arrow-archiver.js';
import { JsonArchiver } from '../actors/json-archiver.js';
import { ArchiverError } from './errors.js';
import { isActorClass, type ActorClass } from './observer.js';

/** Built-in classnames and the Python names that map onto them. */
export const BUILTIN_CLASSES: ReadonlyMap<string, ActorClass> = new Map<string, ActorClass>([
  ['ArrayArchiver', ArrayArchiver as unknown as ActorClass],
  ['herostools.actor.ArrayArchiver', ArrayArchiver as unknown as ActorClass],
  ['herostools.actor.data_archiver.ArrayArchiver', ArrayArchiver as unknown as ActorClass],
  ['JsonArchiver', JsonArchiver as unknown as ActorClass],
  ['herostools.actor.JsonArchiver', JsonArchiver as unknown as ActorClass],
  ['herostools.actor.data_archiver.JsonArchiver', JsonArchiver as unknown as ActorClass],
  ['ArrowArchiver', ArrowArchiver as unknown as ActorClass],
]);

/**
 * Finds the class a `classname` names.
 * @param baseDir folder of the manifest, for relative module paths
 * @throws ArchiverError `ARCHIVER_CLASS_NOT_FOUND` or `ARCHIVER_CLASS_INVALID`
 */
export async function resolveActorClass(classname: string, baseDir: string, actorId?: string): Promise<ActorClass> {
  const builtin = BUILTIN_CLASSES.get(classname);
  if (builtin) return builtin;
  const hash = classname.lastIndexOf('#');
  const specifier = hash > 0 ? classname.slice(0, hash) : classname;
  const exportName = hash > 0 ? classname.slice(hash + 1) : 'default';
  const ctx = { actorId, classname };
  const isPath = /^(\.{1,2}[\\/]|[\\/]|file:)/.test(specifier);
  if (!isPath && /^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+$/.test(specifier) && hash < 0) {
    throw new ArchiverError(
      'ARCHIVER_CLASS_NOT_FOUND',
      `classname "${classname}" looks like a Python class; only ${[...BUILTIN_CLASSES.keys()].join(', ')} are built in. ` +
        'Other archivers are TypeScript/JavaScript modules: "./my-archiver.js#MyArchiver" (see README, "Writing an archiver")',
      ctx,
    );
  }
  let url: string;
  try {
    url = isPath
      ? specifier.startsWith('file:')
        ? specifier
        : pathToFileURL(path.resolve(baseDir, specifier)).href
      : resolvePackage(specifier, baseDir);
  } catch (cause) {
    const why = isPath ? `no module ${specifier} relative to ${baseDir}` : `no installed package "${specifier}" (from ${baseDir})`;
    throw new ArchiverError(
      'ARCHIVER_CLASS_NOT_FOUND',
      `classname "${classname}" is not a built-in (${[...BUILTIN_CLASSES.keys()].filter((k) => !k.includes('.')).join(', ')}), ` +
        `a module path ("./file.js#Class") or an installed package: ${why}`,
      { ...ctx, cause },
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (cause) {
    throw new ArchiverError('ARCHIVER_CLASS_NOT_FOUND', `classname "${classname}": cannot load ${url}: ${(cause as Error).message}`, { ...ctx, cause });
  }
  let found = mod[exportName];
  // A CommonJS module's exports arrive as `default`.
  if (found === undefined && exportName !== 'default' && mod.default && typeof mod.default === 'object') {
    found = (mod.default as Record<string, unknown>)[exportName];
  }
  if (found === undefined) {
    const names = Object.keys(mod).join(', ') || '(none)';
    throw new ArchiverError('ARCHIVER_CLASS_NOT_FOUND', `classname "${classname}": module has no export "${exportName}" (exports: ${names})`, ctx);
  }
  if (!isActorClass(found)) {
    throw new ArchiverError('ARCHIVER_CLASS_INVALID', `classname "${classname}": export "${exportName}" is not a class extending EventObserver or DataArchiver`, ctx);
  }
  return found;
}

function resolvePackage(specifier: string, baseDir: string): string {
  const require = createRequire(path.join(baseDir, 'manifest.json'));
  try {
    return pathToFileURL(require.resolve(specifier)).href;
  } catch (err) {
    // ESM-only packages have no "require" export condition; let import() resolve them from
    // here (our own node_modules) as a last resort.
    if ((err as NodeJS.ErrnoException).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return import.meta.resolve(specifier);
    throw err;
  }
}
