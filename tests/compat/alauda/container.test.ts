// An Alauda job's command string as the container's argv, and back.
import { describe, expect, test } from "bun:test";
import { joinCommand, splitCommand } from "../../../src/compat/alauda/container.ts";

describe("command strings", () => {
  test("split like a POSIX shell's words, and joined back to the same argv", () => {
    expect(splitCommand("bash")).toEqual(["bash"]);
    expect(splitCommand("/bin bash")).toEqual(["/bin", "bash"]);
    expect(splitCommand("  sh  -c 'echo \"a b\"; exit 3'  ")).toEqual(["sh", "-c", 'echo "a b"; exit 3']);
    expect(splitCommand(`echo "x \\"y\\" \\$HOME \\n" a\\ b ''`)).toEqual(["echo", 'x "y" $HOME \\n', "a b", ""]);
    expect(splitCommand("")).toEqual([]);
    for (const argv of [["a b", "it's", "", "$HOME", "tab\there"], ["plain", "--flag=1", "/p/a.t-h"]]) expect(splitCommand(joinCommand(argv))).toEqual(argv);
  });
});
