/** @jsxImportSource hono/jsx */
// The dashboard's forms (POST): log in and out, pause, resume and trigger a job, kill a run. Each calls one
// domain verb with the caller's access, leaves a flash message and redirects (303) to the page to see the
// outcome on; a refusal is a page in words with its 4xx status (routes.tsx).
import type { RouteDeps } from "../api/deps.ts";
import { authRequired, scoped } from "../api/auth.ts";
import { checkName } from "../domain/job-input.ts";
import { pauseJob, resumeJob, triggerJob } from "../domain/jobs.ts";
import { killRun } from "../domain/kill.ts";
import { formatRate } from "../domain/rate.ts";
import { jobPath } from "./layout.tsx";
import { runIdOf } from "./page-routes.tsx";
import { LoginPage } from "./pages/login.tsx";
import { frameOf, render, type UiApp, type UiContext } from "./render.ts";
import { flash, forgetKey, rememberKey } from "./session.ts";

/** Where a login may send the browser next: a dashboard path, nothing else. */
function safeNext(raw: unknown): string {
  return typeof raw === "string" && /^\/ui(?:[/?][^\s\\]*)?$/.test(raw) ? raw : "/ui";
}

export function loginRoutes(ui: UiApp, deps: RouteDeps): void {
  const required = authRequired(deps.config);

  ui.get("/login", async (c) => {
    if (!required) return c.redirect(safeNext(c.req.query("next")), 303);
    return render(c, <LoginPage frame={frameOf(c, deps)} next={safeNext(c.req.query("next"))} problem={null} />);
  });

  ui.post("/login", async (c) => {
    const form = await c.req.parseBody();
    const next = safeNext(form.next);
    if (!required) return c.redirect(next, 303);
    const key = typeof form.key === "string" ? form.key.trim() : "";
    const again = (problem: string, status: number) => render(c, <LoginPage frame={frameOf(c, deps)} next={next} problem={problem} />, status);
    if (key === "") return again("enter an API key", 400);
    const result = await deps.keys.authenticate(key);
    if ("error" in result) return again(result.error, 401);
    if ("retryAfterMs" in result) {
      c.header("Retry-After", String(Math.max(1, Math.ceil(result.retryAfterMs / 1000))));
      return again(`API key ${result.key} is over its rate (${deps.config.limits.rate ? formatRate(deps.config.limits.rate) : "none"}); retry later`, 429);
    }
    rememberKey(c, key);
    const who = result.access.key!;
    deps.log.info("dashboard login", { keyId: who.id, keyName: who.name });
    flash(c, "ok", `Logged in with key ${who.name || who.id} (${result.access.role}).`);
    return c.redirect(next, 303);
  });

  ui.post("/logout", (c) => {
    forgetKey(c);
    flash(c, "ok", "Logged out.");
    return c.redirect(required ? "/ui/login" : "/ui", 303);
  });
}

/** A form's verb: what it did, in words, and where to see it. */
type Done = { message: string; to: string };

export function formRoutes(ui: UiApp, deps: RouteDeps): void {
  const act = (path: string, verb: (c: UiContext) => Promise<Done>) =>
    ui.post(path, async (c) => {
      const { message, to } = await verb(c);
      flash(c, "ok", message);
      return c.redirect(to, 303);
    });
  const job = (c: UiContext) => {
    const { ns, name } = c.req.param() as { ns: string; name: string };
    return { ns: checkName(ns, "namespace"), name: checkName(name, "name") };
  };

  act("/jobs/:ns/:name/pause", async (c) => {
    const { ns, name } = job(c);
    await pauseJob(scoped(c, deps), ns, name);
    return { message: `Paused ${ns}/${name}: it fires no more until resumed.`, to: jobPath(ns, name) };
  });

  act("/jobs/:ns/:name/resume", async (c) => {
    const { ns, name } = job(c);
    const resumed = await resumeJob(scoped(c, deps), ns, name);
    return { message: `Resumed ${ns}/${name}${resumed.nextFireAt ? `: next fire ${resumed.nextFireAt}` : ""}.`, to: jobPath(ns, name) };
  });

  act("/jobs/:ns/:name/trigger", async (c) => {
    const { ns, name } = job(c);
    const run = await triggerJob(scoped(c, deps), ns, name, "manual");
    return { message: `Triggered ${ns}/${name}: run #${run.id} is queued.`, to: `/ui/runs/${run.id}` };
  });

  act("/runs/:id/kill", async (c) => {
    const id = runIdOf(c);
    const { run, ended } = await killRun(scoped(c, deps), id);
    return { message: ended ? `Run #${id} was killed.` : `Run #${id} is being stopped (its node sees the request shortly).`, to: `/ui/runs/${run.id}` };
  });
}
