/** @jsxImportSource hono/jsx */
// The frame of every page (head, navigation, who is logged in, the flash message) and the small pieces
// the pages share: times, status badges, hidden form fields, pagers.
import type { Child, FC } from "hono/jsx";
import type { Access } from "../domain/access.ts";
import { ASSETS } from "./assets/index.ts";
import { relative, shortTime } from "./format.ts";
import type { Flash } from "./session.ts";

/** What every page knows about the request it answers. */
export interface Frame {
  access: Access | null;
  /** The token this session's forms carry. */
  csrf: string;
  flash: Flash | null;
  now: number;
  /** Whether the server needs API keys (then the page shows the key and a logout). */
  keys: boolean;
}

const NAV = [
  ["jobs", "/ui", "Jobs"],
  ["failed", "/ui/failed", "Failed runs"],
  ["upcoming", "/ui/upcoming", "Upcoming"],
  ["preview", "/ui/preview", "Schedule preview"],
  ["nodes", "/ui/nodes", "Nodes"],
] as const;

export type NavKey = (typeof NAV)[number][0] | "login";

export const Layout: FC<{ frame: Frame; title: string; here: NavKey; children?: Child }> = ({ frame, title, here, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{title} · tock</title>
      <link rel="stylesheet" href={ASSETS.css} />
      <link rel="icon" href={ASSETS.icon} type="image/svg+xml" />
      <script src={ASSETS.js} defer></script>
    </head>
    <body>
      <header>
        <a class="brand" href="/ui">
          tock
        </a>
        {frame.access && (
          <nav>
            {NAV.filter(([key]) => key !== "nodes" || frame.access!.role === "admin").map(([key, href, label]) => (
              <a href={href} class={key === here ? "here" : undefined}>
                {label}
              </a>
            ))}
          </nav>
        )}
        {frame.access && frame.keys && <Who frame={frame} />}
      </header>
      <main>
        {frame.flash && (
          <div class={`flash ${frame.flash.kind}`} role={frame.flash.kind === "error" ? "alert" : "status"}>
            {frame.flash.text}
          </div>
        )}
        {children}
      </main>
    </body>
  </html>
);

const Who: FC<{ frame: Frame }> = ({ frame }) => {
  const a = frame.access!;
  const scope = a.namespaces === null ? "all namespaces" : a.namespaces.join(", ");
  return (
    <div class="who">
      <span title={`namespaces: ${scope}`}>
        {a.key?.name || a.key?.id} · {a.role}
      </span>
      <form method="post" action="/ui/logout">
        <Csrf token={frame.csrf} />
        <button type="submit">Log out</button>
      </form>
    </div>
  );
};

/** The hidden field every form that changes something carries. */
export const Csrf: FC<{ token: string }> = ({ token }) => <input type="hidden" name="_csrf" value={token} />;

/** An instant in UTC with how far it is from now. */
export const When: FC<{ at: string | null | undefined; now: number }> = ({ at, now }) =>
  at ? (
    <span>
      <time datetime={at}>{shortTime(at)}</time>
      <span class="rel">{relative(at, now)}</span>
    </span>
  ) : (
    <span class="muted">—</span>
  );

export const Badge: FC<{ status: string; id?: string }> = ({ status, id }) => (
  <span class={`badge ${status}`} id={id}>
    {status}
  </span>
);

/** A link to the next page of a list, keeping the other query parameters. */
export const Pager: FC<{ base: string; query: Record<string, string | undefined>; cursor: string | null }> = ({ base, query, cursor }) => {
  if (!cursor) return null;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
  q.set("cursor", cursor);
  return (
    <p class="pager">
      <a href={`${base}?${q}`}>Next page →</a>
    </p>
  );
};

/** The path of a job's page. */
export const jobPath = (ns: string, name: string) => `/ui/jobs/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;

/** A namespace picker that submits as a GET (works without script). */
export const NamespaceFilter: FC<{ action: string; namespaces: string[]; current?: string }> = ({ action, namespaces, current }) => (
  <form class="inline" method="get" action={action}>
    <label>
      Namespace
      <select name="namespace">
        <option value="">all namespaces</option>
        {namespaces.map((n) => (
          <option value={n} selected={n === current}>
            {n}
          </option>
        ))}
      </select>
    </label>
    <button type="submit" class="secondary">
      Show
    </button>
  </form>
);
