// [notify]: how often one job's or workflow's failures may send a notification, and the notifications every
// job and workflow of a namespace sends ([notify.namespaces.NS]) besides its own (docs/notifications.md).
import * as v from "valibot";
import { duration, got, section } from "./fields.ts";
import { perNamespace } from "./security.ts";

/** What a notification can be sent for. */
export const NOTIFY_EVENTS = ["failure", "timeout", "retries_exhausted", "recovered", "misfire", "killed"] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** Headers a notification may not set: tock sets them, or a credential it would have to show back. */
export const NOTIFY_UNSETTABLE_HEADERS: ReadonlySet<string> = new Set([
  "host", "content-length", "transfer-encoding", "connection", "webhook-id", "webhook-timestamp", "webhook-signature",
  "authorization", "proxy-authorization", "cookie", "x-api-key",
]);

const events = () =>
  v.pipe(
    v.array(v.picklist(NOTIFY_EVENTS, (i) => `must list events of ${NOTIFY_EVENTS.join(", ")}${got(i)}`), (i) => `must be a list of events${got(i)}`),
    v.minLength(1, "must list at least one event"),
  );

export const Notify = section({
  // One job's (or workflow's) failures send at most one notification per min_interval; the next one says
  // how many were held back. A recovery is always sent.
  min_interval: v.optional(duration({ zero: true }), "5m"),
  namespaces: v.optional(
    perNamespace({
      on: events(),
      http: v.strictObject(
        {
          url: v.pipe(v.string(), v.check((u) => /^https?:\/\/[^\s]+$/i.test(u) && URL.canParse(u), "must be an http:// or https:// URL")),
          headers: v.optional(
            v.pipe(
              v.record(v.pipe(v.string(), v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "is not a valid header name")), v.pipe(v.string(), v.regex(/^[\t\x20-\x7e\x80-\xff]*$/, "must be Latin-1 text"))),
              v.check((h) => Object.keys(h).every((k) => !NOTIFY_UNSETTABLE_HEADERS.has(k.toLowerCase())), "may not set Host, Content-Length, Connection, webhook-* or a credential (notifications are signed)"),
            ),
          ),
        },
        (i) => `must be a table with url and headers${got(i)}`,
      ),
    }),
    {},
  ),
});
