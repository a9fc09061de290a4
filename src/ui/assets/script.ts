// The dashboard's only script, served from /ui/assets/: every page works without it, except that it asks
// before a form marked data-confirm is sent, and follows a run's output live (server-sent events).
export const SCRIPT = `
"use strict";
document.addEventListener("submit", function (e) {
  var form = e.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) e.preventDefault();
});

(function follow() {
  var box = document.getElementById("logs");
  if (!box || !box.dataset.follow) return;
  var state = document.getElementById("live");
  var status = document.getElementById("run-status");
  var say = function (text) { if (state) state.textContent = text; };
  var nearBottom = function () { return box.scrollHeight - box.scrollTop - box.clientHeight < 40; };
  var empty = document.getElementById("no-logs");
  var source = new EventSource(box.dataset.follow);
  say("following live…");
  source.addEventListener("line", function (e) {
    var l = JSON.parse(e.data);
    var stick = nearBottom();
    if (empty) { empty.remove(); empty = null; }
    // Output means the run has started, whatever the page said when it was served.
    if (status && status.textContent === "queued") { status.textContent = "running"; status.className = "badge running"; }
    var row = document.createElement("div");
    row.className = l.stream;
    row.setAttribute("data-seq", String(l.seq));
    var at = document.createElement("span");
    at.className = "at";
    at.textContent = l.at.slice(11, 23);
    row.appendChild(at);
    row.appendChild(document.createTextNode(l.line));
    box.appendChild(row);
    if (stick) box.scrollTop = box.scrollHeight;
  });
  source.addEventListener("end", function (e) {
    source.close();
    var end = JSON.parse(e.data);
    if (status) { status.textContent = end.status; status.className = "badge " + end.status; }
    var kill = document.getElementById("kill-form");
    if (kill) kill.remove();
    say("run ended (" + end.status + "): reload for its timing and result");
  });
  source.addEventListener("error", function () {
    say(source.readyState === EventSource.CLOSED ? "live view stopped: reload the page" : "reconnecting…");
  });
  source.addEventListener("open", function () { say("following live…"); });
})();
`;
