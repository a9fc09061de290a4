// The API's own description: GET /api/v1/openapi.json (the OpenAPI 3.1 document, src/api/openapi.ts) and
// GET /docs, a reference page rendering it with Swagger UI. Everything the page loads comes from this server
// (the renderer is embedded, src/api/docs-assets.ts), and its Content-Security-Policy lets it load nothing
// from anywhere else, so it works on a machine with no network. The document and the page hold no data and
// need no API key (src/api/auth.ts OPEN_PATHS); the page's "Authorize" takes one for its "Try it out".
import { type Context, Hono } from "hono";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { RouteDeps } from "./deps.ts";
import { errorBody } from "./http.ts";
import { openApiJson } from "./openapi.ts";

export const OPENAPI_PATH = "/api/v1/openapi.json";

/** What the reference page may load: its own scripts, styles and images, and requests to this server only. */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

// Swagger UI, set up for this server: the document beside it, no validator badge (it would ask another
// host), no "Explore" bar (it could load another document), and keys kept for the page's life only.
const INIT_JS = `"use strict";
window.ui = SwaggerUIBundle({
  url: "api/v1/openapi.json",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null,
  deepLinking: true,
  filter: true,
  displayRequestDuration: true,
  defaultModelsExpandDepth: 0,
  persistAuthorization: false,
});
`;

const PAGE_CSS = `html { box-sizing: border-box; overflow-y: scroll; }
*, *:before, *:after { box-sizing: inherit; }
body { margin: 0; background: #fafafa; }
`;

interface Asset {
  type: string;
  text: string;
  /** A hash of the text: its ETag (weak: the same for the gzipped answer) and, for a file, part of its name. */
  hash: string;
  gzip?: Uint8Array;
}

const hash = (text: string) => createHash("sha256").update(text).digest("base64url").slice(0, 16);
const asset = (type: string, text: string): Asset => ({ type, text, hash: hash(text) });

/** The page's files, each under a name holding its hash (cached for good), and the page naming them. */
interface Page {
  html: Asset;
  files: Map<string, Asset>;
}

let page: Promise<Page> | undefined;

async function loadPage(): Promise<Page> {
  const { SWAGGER_UI_JS, SWAGGER_UI_CSS } = await import("./docs-assets.ts");
  // The source maps are not shipped: a browser's developer tools would ask for them in vain.
  const noMap = (text: string) => text.replace(/\n?\/[/*]# sourceMappingURL=\S+\s*(\*\/)?\s*$/, "\n");
  const files = new Map<string, Asset>();
  const add = (stem: string, ext: string, type: string, text: string) => {
    const a = asset(type, text);
    const name = `${stem}.${a.hash}.${ext}`;
    files.set(name, a);
    return `docs/assets/${name}`; // relative to /docs, so that the page also works under a proxy's prefix
  };
  const uiCss = add("swagger-ui", "css", "text/css; charset=utf-8", noMap(SWAGGER_UI_CSS));
  const pageCss = add("docs", "css", "text/css; charset=utf-8", PAGE_CSS);
  const uiJs = add("swagger-ui-bundle", "js", "text/javascript; charset=utf-8", noMap(SWAGGER_UI_JS));
  const initJs = add("docs", "js", "text/javascript; charset=utf-8", INIT_JS);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tock API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${uiCss}">
<link rel="stylesheet" href="${pageCss}">
</head>
<body>
<div id="swagger-ui"></div>
<noscript><p>This page needs JavaScript. The OpenAPI document it shows is at <a href="api/v1/openapi.json">/api/v1/openapi.json</a>.</p></noscript>
<script src="${uiJs}"></script>
<script src="${initJs}"></script>
</body>
</html>
`;
  return { html: asset("text/html; charset=utf-8", html), files };
}

/** Whether If-None-Match names this hash's ETag (or is *), compared weakly. */
function fresh(c: Context, hash: string): boolean {
  const sent = c.req.header("if-none-match");
  return sent !== undefined && (sent.trim() === "*" || sent.split(",").some((t) => t.trim().replace(/^W\//, "") === `"${hash}"`));
}

/** Answers an asset: 304 when the client has it, gzip when the client takes it. */
function send(c: Context, a: Asset, headers: Record<string, string>): Response {
  const common = { ETag: `W/"${a.hash}"`, Vary: "Accept-Encoding", "X-Content-Type-Options": "nosniff", ...headers };
  if (fresh(c, a.hash)) return c.body(null, 304, common);
  if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? "") && a.text.length > 1024) {
    a.gzip ??= gzipSync(a.text);
    return c.body(a.gzip as Uint8Array<ArrayBuffer>, 200, { ...common, "Content-Type": a.type, "Content-Encoding": "gzip" });
  }
  return c.body(a.text, 200, { ...common, "Content-Type": a.type });
}

export function docsRoutes(deps: RouteDeps) {
  const app = new Hono();

  let doc: Asset | undefined;
  app.get(OPENAPI_PATH, (c) => {
    const { text, hash } = openApiJson(deps.version);
    if (doc?.hash !== hash) doc = { type: "application/json; charset=utf-8", text, hash };
    return send(c, doc, { "Cache-Control": "no-cache" });
  });

  app.get("/docs", async (c) => {
    const { html } = await (page ??= loadPage());
    return send(c, html, { "Cache-Control": "no-cache", "Content-Security-Policy": DOCS_CSP, "Referrer-Policy": "no-referrer" });
  });
  // /docs/ would resolve the page's relative links one folder too deep.
  app.get("/docs/", (c) => c.redirect("../docs", 301));

  app.get("/docs/assets/:file", async (c) => {
    const a = (await (page ??= loadPage())).files.get(c.req.param("file"));
    if (!a) return c.json(errorBody("not_found", `no file ${c.req.param("file")} here; the page at /docs names the current ones`), 404);
    return send(c, a, { "Cache-Control": "public, max-age=31536000, immutable" });
  });

  return app;
}
