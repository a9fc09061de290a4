// The dashboard's stylesheet: plain CSS, served from /ui/assets/ (embedded in the binary as this module).
export const STYLE = `
:root {
  --fg: #1d2430; --muted: #5d6878; --line: #dde2ea; --bg: #f6f7f9; --card: #fff;
  --accent: #2457c5; --ok: #17773a; --bad: #b3261e; --warn: #8a5a00; --idle: #58606d;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header { background: #1d2430; color: #fff; padding: 0 1.5rem; display: flex; align-items: center; gap: 1.5rem; flex-wrap: wrap; }
header .brand { font-weight: 700; font-size: 1.1rem; padding: .7rem 0; color: #fff; }
header nav { display: flex; gap: .2rem; flex-wrap: wrap; flex: 1; }
header nav a { color: #c9d3e3; padding: .8rem .7rem; border-bottom: 3px solid transparent; }
header nav a.here { color: #fff; border-bottom-color: #7aa2f7; }
header nav a:hover { color: #fff; text-decoration: none; }
header .who { color: #c9d3e3; font-size: .9rem; display: flex; align-items: center; gap: .6rem; }
header .who button { background: transparent; color: #c9d3e3; border: 1px solid #56627a; }
main { padding: 1.2rem 1.5rem 3rem; max-width: 1400px; }
h1 { font-size: 1.35rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.05rem; margin: 1.6rem 0 .6rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.2rem; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; padding: .45rem .7rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f5; font-weight: 600; font-size: .85rem; color: var(--muted); }
tr:last-child td { border-bottom: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted, .rel { color: var(--muted); }
.rel { font-size: .85rem; margin-left: .3rem; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
pre { background: #f0f2f5; padding: .6rem .8rem; border-radius: 4px; overflow: auto; margin: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1.2rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; background: #e7eaf0; color: var(--idle); white-space: nowrap; }
.badge.succeeded, .badge.scheduled { background: #ddf2e3; color: var(--ok); }
.badge.failed, .badge.timed_out, .badge.lost { background: #fbe0de; color: var(--bad); }
.badge.running, .badge.queued { background: #dfe8fb; color: var(--accent); }
.badge.killed, .badge.paused, .badge.skipped { background: #fbefd5; color: var(--warn); }
.flash { padding: .7rem 1rem; border-radius: 6px; margin-bottom: 1rem; border: 1px solid; }
.flash.ok { background: #e5f5ea; border-color: #a9d8b8; color: #11502a; }
.flash.error { background: #fdeceb; border-color: #efb4b0; color: #7d1b15; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; margin: 0 0 1rem; }
.actions form { margin: 0; }
button, .button { font: inherit; padding: .35rem .9rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: var(--card); color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
input, select { font: inherit; padding: .35rem .5rem; border: 1px solid #b8c0cc; border-radius: 4px; background: #fff; }
form.inline { display: flex; gap: .6rem; align-items: end; flex-wrap: wrap; margin-bottom: 1rem; }
form.inline label { display: flex; flex-direction: column; gap: .2rem; font-size: .85rem; color: var(--muted); }
form.stack { display: flex; flex-direction: column; gap: .8rem; max-width: 32rem; }
form.stack label { display: flex; flex-direction: column; gap: .25rem; }
.error-text { color: var(--bad); }
.note { font-size: .85rem; color: var(--warn); }
tr.noted td { background: #fff8e6; }
.pager { margin-top: .8rem; }
.logs { background: #11161f; color: #d8dee9; padding: .6rem .8rem; border-radius: 6px; max-height: 32rem; overflow: auto; white-space: pre-wrap; word-break: break-all; margin: 0; }
.logs .stderr { color: #ff9b94; }
.logs .tock { color: #8b96a8; font-style: italic; }
.logs .at { color: #6c7789; margin-right: .6rem; user-select: none; }
.live { font-size: .85rem; color: var(--accent); margin-left: .6rem; }
.login { max-width: 30rem; margin: 3rem auto; }
`;
