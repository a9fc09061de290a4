// The reference page's renderer, Swagger UI (the swagger-ui-dist package), as text: imported with
// `with { type: "text" }`, which Bun (and `bun build --compile`, which embeds it in the binary) and Deno both
// read, so the page needs no file and no other host at run time. Loaded on the first request for /docs.
import bundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };
import css from "swagger-ui-dist/swagger-ui.css" with { type: "text" };

export const SWAGGER_UI_JS: string = bundle;
export const SWAGGER_UI_CSS: string = css;
