/**
 * nedb persists every write by appending a line with fs.promises.appendFile, which opens and closes the collection
 * file each time, through libuv's thread pool: most of a write's cost here. The local database keeps one file
 * descriptor per collection file and appends synchronously instead (a small append to the page cache takes
 * microseconds). Same durability: one write per operation, in order (nedb serialises a collection's operations),
 * complete before the operation resolves. The descriptor is closed before nedb's crash-safe compaction renames a new
 * file over the old one, and when the database is closed.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

interface NedbStorage {
  appendFileAsync(filename: string, data: string, options?: { mode?: number }): Promise<void>;
  crashSafeWriteFileLinesAsync(filename: string, lines: string[], modes?: unknown): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- nedb's storage module, patched at its call sites
const storage = require('@seald-io/nedb/lib/storage') as NedbStorage;
const descriptors = new Map<string, number>();

function release(filename: string): void {
  const fd = descriptors.get(filename);
  if (fd === undefined) return;
  descriptors.delete(filename);
  closeSync(fd);
}

const crashSafeWrite = storage.crashSafeWriteFileLinesAsync;
storage.appendFileAsync = async (filename, data, options) => {
  let fd = descriptors.get(filename);
  if (fd === undefined) {
    fd = openSync(filename, 'a', options?.mode);
    descriptors.set(filename, fd);
  }
  const bytes = Buffer.from(data, 'utf8');
  for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written);
};
storage.crashSafeWriteFileLinesAsync = async (filename, lines, modes) => {
  release(filename);
  return crashSafeWrite(filename, lines, modes);
};

/** Closes the descriptors of files under `dir`. */
export function releaseFiles(dir: string): void {
  for (const filename of [...descriptors.keys()]) if (filename.startsWith(dir)) release(filename);
}
