// The dashboard's static files, embedded as modules (no files are read at run time, so the binary and
// `deno run` serve the same bytes). Each is named by a hash of its content, so it can be cached for good.
import { createHash } from "node:crypto";
import type { Context } from "hono";
import { SCRIPT } from "./script.ts";
import { STYLE } from "./style.ts";

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="14" fill="#2457c5"/><path d="M16 8v8l5 3" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round"/></svg>`;

interface Asset {
  body: string;
  type: string;
}

function named(stem: string, ext: string, body: string, type: string): [string, Asset] {
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  return [`${stem}.${hash}.${ext}`, { body, type }];
}

const FILES = new Map<string, Asset>([
  named("app", "css", STYLE, "text/css; charset=utf-8"),
  named("app", "js", SCRIPT, "text/javascript; charset=utf-8"),
  named("icon", "svg", ICON, "image/svg+xml"),
]);

const pathOf = (ext: string) => `/ui/assets/${[...FILES.keys()].find((n) => n.endsWith(`.${ext}`))}`;

/** Where the pages find the stylesheet, the script and the icon. */
export const ASSETS = { css: pathOf("css"), js: pathOf("js"), icon: pathOf("svg") };

/** GET /ui/assets/:file: the file, cacheable for a year (a new build names it anew), or 404. */
export function serveAsset(c: Context): Response {
  const file = FILES.get(c.req.param("file") ?? "");
  if (!file) return c.text("no such file", 404);
  return c.body(file.body, 200, { "content-type": file.type, "cache-control": "public, max-age=31536000, immutable", "x-content-type-options": "nosniff" });
}
