// A database file's identity (device and inode): SQLite goes on writing to the file it holds open, so a
// file deleted or replaced at its path takes writes that reach nobody.
import { statSync } from "node:fs";

export interface OpenedFile {
  path: string;
  dev: number;
  ino: number;
}

/** A file's identity (device and inode): another file at the same path has another. */
export function identity(path: string): { dev: number; ino: number } | undefined {
  try {
    const st = statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

/** Why the file opened is no longer the one at its path (deleted, or replaced by another), or null. */
export function fileProblem(file: OpenedFile | undefined): string | null {
  if (!file) return null;
  const now = identity(file.path);
  if (!now) return `the database file ${file.path} was deleted while open`;
  if (now.dev !== file.dev || now.ino !== file.ino) return `the database file ${file.path} was replaced by another file while open`;
  return null;
}
