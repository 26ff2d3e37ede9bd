// paxx dashboard: the logs pane, the typed confirmation and the live indicator.
// Everything else (the live parts, the buttons) is htmx and its SSE extension.
(function () {
  "use strict";
  const token = document.querySelector('meta[name="paxx-token"]').content;
  const pane = document.getElementById("log-lines");
  const status = document.getElementById("log-status");
  const select = document.getElementById("log-service");
  const filter = document.getElementById("log-filter");
  const follow = document.getElementById("log-follow");
  const MAX_LINES = 5000;
  let source = null;

  function shown(text) {
    const wanted = filter.value.trim().toLowerCase();
    return !wanted || text.toLowerCase().includes(wanted);
  }

  function say(text, tone) {
    status.textContent = text;
    status.className = "log-status" + (tone ? " " + tone : "");
  }

  function append(text) {
    const batch = document.createDocumentFragment();
    for (const line of text.split("\n")) {
      const row = document.createElement("div");
      row.className = "line";
      row.textContent = line;
      row.hidden = !shown(line);
      batch.appendChild(row);
    }
    pane.appendChild(batch);
    while (pane.childElementCount > MAX_LINES) pane.firstElementChild.remove();
    if (follow.checked) pane.scrollTop = pane.scrollHeight;
  }

  function stop() {
    if (source) source.close();
    source = null;
  }

  function open(service) {
    stop();
    pane.textContent = "";
    if (![...select.options].some((o) => o.value === service)) select.add(new Option(service, service));
    select.value = service;
    if (!service) return say("Pick a service (or press Logs in its row) to follow its logs.");
    say("following " + service + " (last 200 lines, then each new one)", "ok");
    const url = "/logs/" + encodeURIComponent(service) + "?tail=200&token=" + encodeURIComponent(token);
    source = new EventSource(url);
    source.addEventListener("lines", (e) => append(e.data));
    source.addEventListener("problem", (e) => { stop(); say(e.data, "bad"); });
    source.addEventListener("end", () => {
      stop();
      say(service + ": the log stream ended (the container stopped); pick it again to follow anew", "warn");
    });
    source.onerror = () => {
      if (source) { stop(); say(service + ": lost the connection to the dashboard", "bad"); }
    };
  }

  select.addEventListener("change", () => open(select.value));
  filter.addEventListener("input", () => {
    for (const row of pane.children) row.hidden = !shown(row.textContent);
  });
  document.getElementById("log-clear").addEventListener("click", () => { pane.textContent = ""; });
  document.addEventListener("click", (e) => {
    const button = e.target.closest("[data-logs]");
    if (button) open(button.dataset.logs);
  });

  // Deleting the data volumes: the button works only once the project name is typed.
  const typed = document.querySelector("[data-confirm]");
  const destroy = document.querySelector("button.destroy");
  typed.addEventListener("input", () => {
    destroy.disabled = !typed.dataset.confirm || typed.value !== typed.dataset.confirm;
  });
  document.body.addEventListener("htmx:afterRequest", (e) => {
    if (e.detail.elt.matches("form.confirm")) {
      typed.value = "";
      destroy.disabled = true;
      document.getElementById("delete-data").open = false;
    }
  });

  // Whether the page is still connected to the dashboard.
  const live = document.getElementById("live");
  document.body.addEventListener("htmx:sseOpen", () => live.classList.remove("lost"));
  document.body.addEventListener("htmx:sseError", () => live.classList.add("lost"));
})();
