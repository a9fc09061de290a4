// A progress bar on stderr for long imports: drawn in place on a terminal, at most ten times a second, and
// wiped when done. Where stderr is not a terminal nothing is drawn at all.

/** One frame: "importing [#########...........] 1234/5000  24%  3 failed". */
export function renderProgress(done: number, total: number, failed: number, width = 30): string {
  const share = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(share * width);
  const bar = `${"#".repeat(filled)}${".".repeat(width - filled)}`;
  return `importing [${bar}] ${done}/${total} ${String(Math.floor(share * 100)).padStart(3)}%${failed ? `  ${failed} failed` : ""}`;
}

export interface Progress {
  update(done: number, failed: number): void;
  /** Wipes the bar (call before printing anything else on stderr). */
  clear(): void;
}

const NONE: Progress = { update() {}, clear() {} };

export function progress(total: number, write: (text: string) => unknown, tty: boolean, now = () => Date.now()): Progress {
  if (!tty || total === 0) return NONE;
  let drawn = Number.NEGATIVE_INFINITY;
  let shown = false;
  return {
    update(done, failed) {
      const t = now();
      if (done < total && t - drawn < 100) return;
      drawn = t;
      shown = true;
      write(`\r${renderProgress(done, total, failed)}\x1b[K`);
    },
    clear() {
      if (shown) write("\r\x1b[K");
      shown = false;
    },
  };
}
