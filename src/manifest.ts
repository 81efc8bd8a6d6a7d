/**
 * BOSS manifests: reading, shape validation, freezing.
 *
 * A manifest is exactly what BOSS takes: one entry `{"_id", "classname", "arguments"}`, an array
 * of entries, or a CouchDB view `{"rows": [{"doc": {...}} | {...}]}`. BOSS ignores other keys of
 * an entry (`extra_decorators`, `datasource`, `tags`, …) and so do we; `arguments` is checked
 * strictly later, against the actor's own option schema.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ArchiverError, ConfigError, type ConfigProblem } from './errors.js';
import { parseJsonKeepingPythonNumbers } from './formats/json-input.js';
import { deepFreeze, describeType } from './options.js';

/** One actor as declared in a manifest, frozen. */
export interface ManifestEntry {
  /** Unique actor name (`_id`); also the HERO name under BOSS. */
  readonly id: string;
  /** What to instantiate: built-in name, module path or package export. */
  readonly classname: string;
  /** The actor's options, unvalidated (validated against the class's schema later). */
  readonly arguments: Readonly<Record<string, unknown>>;
  /** Where it was declared, for messages and for resolving relative module paths. */
  readonly origin: ManifestOrigin;
}

/** Location of an entry: the manifest it came from and its position there. */
export interface ManifestOrigin {
  /** File path, URL or `env:NAME`. */
  readonly source: string;
  /** Folder that relative module paths in `classname` are resolved from. */
  readonly baseDir: string;
  /** Path of the entry inside the document: `[2]`, `.rows[0].doc`, or `` for a single entry. */
  readonly pointer: string;
}

/** A manifest document to parse: its text and where it came from. */
export interface ManifestDocument {
  readonly source: string;
  readonly baseDir: string;
  readonly text: string;
}

/** Reads manifest files and folders (every `*.json` in a folder, sorted by name). */
export async function readManifestFiles(paths: readonly string[]): Promise<ManifestDocument[]> {
  const docs: ManifestDocument[] = [];
  for (const p of paths) {
    const abs = path.resolve(p);
    let info;
    try {
      info = await stat(abs);
    } catch (cause) {
      throw new ArchiverError('ARCHIVER_MANIFEST_UNREADABLE', `cannot read manifest ${p}: ${(cause as Error).message}`, { path: p, cause });
    }
    const files = info.isDirectory()
      ? (await readdir(abs)).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(abs, f))
      : [abs];
    if (info.isDirectory() && files.length === 0) {
      throw new ArchiverError('ARCHIVER_MANIFEST_UNREADABLE', `manifest folder ${p} contains no *.json file`, { path: p });
    }
    for (const file of files) {
      try {
        docs.push({ source: displayPath(file), baseDir: path.dirname(file), text: await readFile(file, 'utf8') });
      } catch (cause) {
        throw new ArchiverError('ARCHIVER_MANIFEST_UNREADABLE', `cannot read manifest ${file}: ${(cause as Error).message}`, { path: file, cause });
      }
    }
  }
  return docs;
}

/**
 * Parses documents into entries. Reports every problem of every document (JSON syntax, shape,
 * missing or mistyped `_id`/`classname`/`arguments`, duplicate `_id` across documents) in one
 * {@link ConfigError}; returns frozen entries when there is none.
 */
export function parseManifests(docs: readonly ManifestDocument[]): ManifestEntry[] {
  const problems: ConfigProblem[] = [];
  const entries: ManifestEntry[] = [];
  for (const doc of docs) {
    parseDocument(doc, entries, problems);
  }
  const seen = new Map<string, ManifestEntry>();
  for (const e of entries) {
    const first = seen.get(e.id);
    if (first) {
      problems.push({
        code: 'ARCHIVER_DUPLICATE_ID',
        path: `${e.origin.source}${e.origin.pointer}._id`,
        message: `duplicate _id "${e.id}" (first declared at ${first.origin.source}${first.origin.pointer})`,
        actorId: e.id,
      });
    } else {
      seen.set(e.id, e);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return entries;
}

function parseDocument(doc: ManifestDocument, entries: ManifestEntry[], problems: ConfigProblem[]): void {
  let data: unknown;
  try {
    data = parseJsonKeepingPythonNumbers(doc.text);
  } catch (err) {
    problems.push({ code: 'ARCHIVER_MANIFEST_INVALID', path: doc.source, message: `not valid JSON: ${(err as Error).message}` });
    return;
  }
  const candidates: { value: unknown; pointer: string }[] = [];
  if (Array.isArray(data)) {
    data.forEach((value, i) => candidates.push({ value, pointer: `[${i}]` }));
    if (data.length === 0) problems.push({ code: 'ARCHIVER_MANIFEST_INVALID', path: doc.source, message: 'the manifest is an empty array: no actor declared' });
  } else if (isObject(data) && Array.isArray(data.rows) && !('_id' in data)) {
    data.rows.forEach((row: unknown, i: number) => {
      // CouchDB view rows carry the document under "doc" (include_docs) or are the document.
      if (isObject(row) && isObject(row.doc)) candidates.push({ value: row.doc, pointer: `.rows[${i}].doc` });
      else candidates.push({ value: row, pointer: `.rows[${i}]` });
    });
  } else if (isObject(data)) {
    candidates.push({ value: data, pointer: '' });
  } else {
    problems.push({
      code: 'ARCHIVER_MANIFEST_INVALID',
      path: doc.source,
      message: `expected an entry object, an array of entries or {"rows": [...]}, got ${describeType(data)}`,
    });
    return;
  }
  for (const { value, pointer } of candidates) {
    const where = `${doc.source}${pointer}`;
    if (!isObject(value)) {
      problems.push({ code: 'ARCHIVER_MANIFEST_INVALID', path: where, message: `expected an entry object, got ${describeType(value)}` });
      continue;
    }
    const before = problems.length;
    const id = value._id;
    const actorId = typeof id === 'string' ? id : undefined;
    const bad = (key: string, message: string): void => {
      problems.push({ code: 'ARCHIVER_MANIFEST_INVALID', path: `${where}.${key}`, message, ...(actorId ? { actorId } : {}) });
    };
    if (typeof id !== 'string' || id.length === 0) bad('_id', `expected a non-empty string, got ${describeType(id)}`);
    else if (/[/*?#$\s]/.test(id)) bad('_id', `"${id}" is not usable as an actor name (no "/", "*", "?", "#", "$" or spaces)`);
    if (typeof value.classname !== 'string' || value.classname.length === 0) {
      bad('classname', `expected a non-empty string, got ${describeType(value.classname)}`);
    }
    const args = value.arguments ?? {};
    if (!isObject(args)) bad('arguments', `expected an object, got ${describeType(args)}`);
    if (problems.length > before) continue;
    entries.push(
      deepFreeze({
        id: id as string,
        classname: value.classname as string,
        arguments: args as Record<string, unknown>,
        origin: { source: doc.source, baseDir: doc.baseDir, pointer },
      }),
    );
  }
}

/** A path as messages show it: relative to the working directory when inside it. */
function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/** `boss.json[2].arguments` — where an entry's arguments are, for problem paths. */
export function argumentsPath(entry: ManifestEntry): string {
  return `${entry.origin.source}${entry.origin.pointer}.arguments`;
}
