// The receiving end of every benchmark: a bare Bun.serve on 127.0.0.1 in its own process, so it never
// shares an event loop with tock. Records per request its arrival time (hi-res and Date.now()) and its
// `webhook-id` header, answers 200 "ok". Control paths (not recorded): GET /__count, POST /__reset,
// GET /__dump (JSON { hr, wall, ids }), GET /__warm (for warming client connections).
let hr: number[] = [];
let wall: number[] = [];
let ids: string[] = [];
const timeOrigin = performance.timeOrigin;

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 120,
  fetch(req) {
    const url = req.url;
    const p = url.indexOf("/__");
    if (p >= 0 && url.indexOf("/", url.indexOf("//") + 2) === p) {
      const path = url.slice(p);
      if (path.startsWith("/__warm")) return new Response("ok");
      if (path.startsWith("/__count")) return new Response(String(hr.length));
      if (path.startsWith("/__reset")) {
        hr = [];
        wall = [];
        ids = [];
        return new Response("ok");
      }
      if (path.startsWith("/__dump")) return Response.json({ hr, wall, ids });
      return new Response("no such control path", { status: 404 });
    }
    hr.push(timeOrigin + performance.now());
    wall.push(Date.now());
    ids.push(req.headers.get("webhook-id") ?? "");
    return new Response("ok");
  },
});

console.log(JSON.stringify({ sink: `http://127.0.0.1:${server.port}` }));

export {};
