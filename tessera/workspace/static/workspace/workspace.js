/* Agent workspace: keyboard navigation, bulk selection, live ticket updates. No build step. */
(function () {
  "use strict";

  // Swap validation errors (422) and conflicts (409) too: the server renders them as the page to show.
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "(409|422|403|404)", swap: true, error: false },
      { code: "...", swap: false, error: true },
    ];
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  // Keyboard list navigation ------------------------------------------------------------------
  function rows() { return Array.from(document.querySelectorAll("[data-keyboard-list] tr[data-href]")); }
  var current = -1;
  function select(index) {
    var all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, i) { row.classList.toggle("is-current", i === current); row.removeAttribute("aria-current"); });
    all[current].setAttribute("aria-current", "true");
    var link = all[current].querySelector("a.row-link");
    if (link) link.focus({ preventScroll: true });
    all[current].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var help = document.getElementById("ws-help");
    if (event.key === "?") { if (help && !help.open) help.showModal(); event.preventDefault(); return; }
    if (event.key === "/") {
      var search = document.querySelector("[data-shortcut='/']");
      if (search) { search.focus(); search.select(); event.preventDefault(); }
      return;
    }
    if (event.key === "r") {
      var reply = document.querySelector("[data-shortcut='r']");
      if (reply) { reply.focus(); event.preventDefault(); }
      return;
    }
    if (event.key === "j") { select(current + 1); event.preventDefault(); }
    else if (event.key === "k") { select(current - 1); event.preventDefault(); }
    else if (event.key === "Enter" && current >= 0 && !event.target.closest("a,button")) {
      var row = rows()[current];
      if (row) window.location.href = row.dataset.href;
    } else if (event.key === "x" && current >= 0) {
      var box = rows()[current].querySelector("input[type=checkbox]");
      if (box) { box.checked = !box.checked; updateSelected(); }
    }
  });

  // Enter in a one-line field presses the button of the part the field is in (the phone call form holds
  // the caller search and the new-contact form inside the ticket form; the browser would press the
  // first button of the whole form).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.target.tagName !== "INPUT" || event.isComposing) return;
    var part = event.target.closest("[data-enter-button]");
    var button = part && part.querySelector(part.dataset.enterButton);
    if (!button && part) button = document.querySelector(part.dataset.enterButton);
    if (button) { event.preventDefault(); button.click(); }
  });

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-help-toggle]");
    if (toggle) { document.getElementById("ws-help").showModal(); }
  });

  // The filters fill a whole phone screen: folded there unless some are in use, open on wider screens.
  var narrow = window.matchMedia("(max-width: 40rem)");
  function foldFilters() {
    document.querySelectorAll("details[data-filters]").forEach(function (box) {
      box.open = !narrow.matches || box.hasAttribute("data-active");
    });
  }
  narrow.addEventListener("change", foldFilters);
  document.addEventListener("DOMContentLoaded", foldFilters);

  // Bulk selection ----------------------------------------------------------------------------
  function updateSelected() {
    var label = document.querySelector("[data-selected-count]");
    if (!label) return;
    var n = document.querySelectorAll("input[name=ids]:checked").length;
    label.textContent = n ? "(" + n + ")" : "";
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-select-all]")) {
      document.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = event.target.checked; });
    }
    if (event.target.matches("[data-bulk-action]")) {
      var action = event.target.value;
      document.querySelectorAll("[data-bulk-for]").forEach(function (field) { field.hidden = field.dataset.bulkFor !== action; });
    }
    updateSelected();
  });

  // Live ticket updates ------------------------------------------------------------------------
  var socket = null;
  var retry = 1000;
  function view() { return document.getElementById("ticket-view"); }
  function connect() {
    var el = view();
    if (!el || !window.WebSocket) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    // Behind a proxy /ws/ goes to the websocket process on the same host; `tessera serve` runs that
    // process on its own port and says which in a meta tag; tests may point elsewhere.
    var port = document.querySelector('meta[name="tessera-websocket-port"]');
    var host = window.TESSERA_LIVE_HOST || (port ? location.hostname + ":" + port.content : location.host);
    socket = new WebSocket(scheme + host + el.dataset.liveUrl + "?seen=" + encodeURIComponent(el.dataset.seen));
    socket.onopen = function () { retry = 1000; };
    socket.onmessage = function (message) {
      var data = JSON.parse(message.data);
      if (data.type !== "changed") return;
      var banner = document.getElementById("live-banner");
      if (!banner) return;
      banner.querySelector("[data-live-changes]").textContent = data.changes.join(" · ") + ".";
      banner.hidden = false;
    };
    socket.onclose = function () {
      socket = null;
      if (view()) { setTimeout(connect, retry); retry = Math.min(retry * 2, 30000); }
    };
  }
  // After our own update the page shows newer events: tell the server so they are not announced.
  document.addEventListener("htmx:afterSettle", function () {
    var el = view();
    if (el && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ seen: parseInt(el.dataset.seen, 10) || 0 }));
    }
  });
  document.addEventListener("DOMContentLoaded", connect);
})();
