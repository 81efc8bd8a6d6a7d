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
 * Resolves a rendered path. Throws `ARCHIVER_PATH_OUTSIDE_ROOT` for an empty path, a NUL byte,
 * a `..` segment, or a result outside `root`.
 */
export function resolveArchivePath(rendered: string, where: ArchiveRoot, actorId?: string): string {
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
  if (rel.startsWith('..') || path.isAbsolute(rel)) refuse(`it is outside the archive root ${where.root}`);
  return abs;
}
