// API keys over REST, for admins: make one (its token is in this answer only), list, read, revoke.
import { Hono } from "hono";
import type { RouteDeps } from "./deps.ts";
import { createKey, getKey, listKeys, revokeKey } from "../domain/keys.ts";
import { scoped } from "./auth.ts";
import { jsonBody } from "./http.ts";

export function keyRoutes(deps: RouteDeps) {
  const app = new Hono();

  app.post("/keys", async (c) => {
    const { key, token } = await createKey(scoped(c, deps), await jsonBody(c));
    await deps.keys.refresh(); // this node knows the key at once; the others within a second
    c.header("Location", `/api/v1/keys/${key.id}`);
    c.header("Cache-Control", "no-store");
    return c.json({ ...key, key: token }, 201);
  });

  app.get("/keys", async (c) => c.json({ items: await listKeys(scoped(c, deps)), nextCursor: null }));

  app.get("/keys/:id", async (c) => c.json(await getKey(scoped(c, deps), c.req.param("id"))));

  app.delete("/keys/:id", async (c) => {
    await revokeKey(scoped(c, deps), c.req.param("id"));
    await deps.keys.refresh();
    return c.body(null, 204);
  });

  return app;
}
