/* Status page: show times in the visitor's own time zone. The server renders them in the zone it knows
   (the account's, or the one this script stored in a cookie last time, else UTC); this rewrites them with the
   browser's zone and remembers it for the next visit, so later pages arrive right without a rewrite. */
(function () {
  "use strict";
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) { return; }
  var page = document.querySelector("[data-zone]");
  var rendered = page ? page.getAttribute("data-zone") : null;
  if (document.cookie.indexOf("tessera_tz=") === -1) {
    document.cookie = "tessera_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
  }
  // A signed-in user's own zone wins: the server already used it, so leave the times alone.
  if (!rendered || rendered === zone || document.body.hasAttribute("data-user-zone")) { return; }
  var lang = document.documentElement.lang || undefined;
  // dateStyle cannot be combined with timeZoneName, so the parts are named one by one.
  var format = new Intl.DateTimeFormat(lang, {
    year: "numeric", month: "long", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: zone, timeZoneName: "short"
  });
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) { el.textContent = format.format(when); }
  });
  document.querySelectorAll(".status-zone").forEach(function (el) { el.textContent = zone; });
})();
