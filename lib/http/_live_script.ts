/**
 * The admin pages' one script, served at {@linkcode SCRIPT_PATH} (the CSP
 * allows `script-src 'self'; connect-src 'self'` and no inline script): on a
 * delivery's page it follows the latest run's output stream, appends each
 * line as it arrives, and sets the state, exit and duration at `end`. The
 * page works without it (it then reloads every 2 s while work is under way).
 *
 * @module
 */

/** Where the script is served; the version in the name lets it be cached for good. */
export const SCRIPT_PATH = "/static/live-1.js";

/** The script. Text only: output is added with `append`, never as markup. */
export const SCRIPT = `"use strict";
(function () {
  var run = document.querySelector("[data-live]");
  if (!run || typeof EventSource === "undefined") return;
  var field = function (name) { return run.querySelector('[data-field="' + name + '"]'); };
  var badge = document.querySelector("h1 .state");
  var setState = function (state) {
    if (!badge) return;
    badge.textContent = state;
    badge.className = "state state-" + state;
  };
  var append = function (name, text) {
    var pre = field(name);
    if (!pre) return;
    pre.hidden = false;
    pre.append(text);
  };
  var ms = function (n) {
    if (n === null) return "–";
    if (n < 1000) return n + " ms";
    if (n < 60000) return (n / 1000).toFixed(1) + " s";
    return (n / 60000).toFixed(1) + " min";
  };
  var source = new EventSource(run.getAttribute("data-live"));
  ["stdout", "stderr"].forEach(function (name) {
    source.addEventListener(name, function (event) {
      setState("running");
      append(name, event.data);
    });
  });
  source.addEventListener("truncated", function (event) {
    append(event.data, "\\n[hookd: the rest of " + event.data + " went past the limit]\\n");
  });
  source.addEventListener("end", function (event) {
    source.close();
    var end = JSON.parse(event.data);
    setState(end.state);
    var exit = end.exitCode !== null ? String(end.exitCode) : end.signal || "–";
    field("exit").textContent = exit;
    field("duration").textContent = ms(end.durationMs);
    field("outcome").textContent = end.outcome ? "Finished: " + end.outcome : end.state;
    run.setAttribute("data-ended", end.state);
  });
})();
`;
