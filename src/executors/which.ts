// Whether a program can be run here: a path is checked as given, a bare name is looked up on PATH, as a
// shell would. A node offers script languages and container jobs only where their program is present.
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import process from "node:process";

const runnable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** Whether `program` names an executable file (a path, or a name found on `path`, default $PATH). */
export function present(program: string, path = process.env.PATH ?? ""): boolean {
  if (program.includes("/")) return runnable(program);
  return path.split(delimiter).some((dir) => dir !== "" && runnable(join(dir, program)));
}
