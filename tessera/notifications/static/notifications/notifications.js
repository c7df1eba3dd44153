/* The notification bell follows the unread count over a websocket. While the socket is open the bell's
   htmx polling pauses (a poll is cancelled here while window.tesseraBellLive: a trigger filter would need
   eval, which the Content-Security-Policy forbids); when it closes, polling takes
   over again and the socket is retried with a growing pause. No build step. */
(function () {
  "use strict";

  var script = document.currentScript;
  var path = script && script.dataset.livePath;
  var retry = 1000;
  window.tesseraBellLive = false;

  function url() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    // Behind a proxy /ws/ goes to the websocket process on the same host; `tessera serve` runs that
    // process on its own port and says which in a meta tag; tests may point elsewhere.
    var port = document.querySelector('meta[name="tessera-websocket-port"]');
    var host = window.TESSERA_LIVE_HOST || (port ? location.hostname + ":" + port.content : location.host);
    return scheme + host + path;
  }

  function show(html) {
    var bell = document.getElementById("notification-bell");
    if (!bell) return;
    if (window.htmx) {
      htmx.swap(bell, html, { swapStyle: "outerHTML" });  // processes the new bell's hx- attributes
    } else {
      bell.outerHTML = html;
    }
  }

  function connect() {
    if (!path || !window.WebSocket || !document.getElementById("notification-bell")) return;
    var socket;
    try {
      socket = new WebSocket(url());
    } catch (error) {
      return;  // a malformed address: polling stays in charge
    }
    socket.onmessage = function (message) {
      var data = JSON.parse(message.data);
      if (data.type !== "unread") return;
      window.tesseraBellLive = true;
      retry = 1000;  // a working connection: a later drop starts the back-off afresh
      show(data.html);
    };
    socket.onclose = function (event) {
      window.tesseraBellLive = false;
      if (event.code === 4403) return;  // signed out: nothing to follow any more
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 60000);
    };
  }

  // A poll (no triggering event, unlike "notifications-changed") is not sent while the socket is live.
  document.addEventListener("htmx:confirm", function (event) {
    var target = event.target;
    if (window.tesseraBellLive && target instanceof Element && target.id === "notification-bell" &&
        !event.detail.triggeringEvent) {
      event.preventDefault();
    }
  });

  document.addEventListener("DOMContentLoaded", connect);
})();
