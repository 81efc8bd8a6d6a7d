/**
 * Turning a rendered template into a file path that is safe to write.
 *
 * Templates are filled with metadata that remote devices send, so a rendered path is
 * untrusted input: `..` segments and absolute paths outside the operator's archive root are
 * refused (promise 5 in the design).
 */
import path from 'node:path';
import { ArchiverError } from '../errors.js';

/** Where an actor may write. */
export interface ArchiveRoot {
  /** Absolute folder every file must be inside. `/` allows any absolute path. */
  readonly root: string;
  /** Absolute folder relative paths are resolved from. */
  readonly baseDir: string;
}

/**
 * What keeps a path from being taken as it is: an empty, `.` or `..` segment, a trailing
 * slash, a backslash, a NUL byte, or white space at either end.
 */
const NOT_PLAIN = /\/\/|(?:^|\/)\.\.?(?:\/|$)|\/$|\\|\0|^\s|\s$/;

/** Whether `dir` is absolute and normal (`/` included). */
function plainFolder(dir: string): boolean {
  return dir === '/' || (dir.charCodeAt(0) === 47 && !NOT_PLAIN.test(dir));
}

/**
 * The usual case without resolving: a rendered path with only plain segments, absolute or
 * relative to a plain `baseDir`, that lies inside a plain `root`. Undefined when any of this
 * does not hold (the full check then decides).
 */
function plainPath(rendered: string, where: ArchiveRoot): string | undefined {
  if (rendered.length === 0 || NOT_PLAIN.test(rendered)) return undefined;
  let abs = rendered;
  if (rendered.charCodeAt(0) !== 47) {
    if (!plainFolder(where.baseDir)) return undefined;
    abs = where.baseDir === '/' ? `/${rendered}` : `${where.baseDir}/${rendered}`;
  }
  const root = where.root;
  if (root === '/') return abs;
  if (!plainFolder(root)) return undefined;
  return abs.length > root.length + 1 && abs.startsWith(root) && abs.charCodeAt(root.length) === 47 ? abs : undefined;
}

/**
 * Resolves a rendered path. Throws `ARCHIVER_PATH_OUTSIDE_ROOT` for an empty path, a NUL byte,
 * a `..` segment, or a result outside `root`.
 */
export function resolveArchivePath(rendered: string, where: ArchiveRoot, actorId?: string): string {
  return plainPath(rendered, where) ?? resolveArchivePathFully(rendered, where, actorId);
}

/** {@link resolveArchivePath} without its shortcut for plain paths (tests compare the two). */
export function resolveArchivePathFully(rendered: string, where: ArchiveRoot, actorId?: string): string {
  const refuse = (why: string): never => {
    throw new ArchiverError('ARCHIVER_PATH_OUTSIDE_ROOT', `rendered path ${JSON.stringify(rendered)} refused: ${why}`, {
      actorId,
      path: rendered,
    });
  };
  if (rendered.trim().length === 0) refuse('it is empty');
  if (rendered.includes('\0')) refuse('it contains a NUL byte');
  if (rendered.split(/[\\/]/).includes('..')) refuse('it contains a ".." segment');
  const abs = path.resolve(where.baseDir, rendered);
  if (rendered.endsWith('/') || abs === where.root) refuse('it names a folder, not a file');
  const rel = path.relative(where.root, abs);
  // A name such as `..x` is inside; only a `..` segment leads out.
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) refuse(`it is outside the archive root ${where.root}`);
  return abs;
}
