// Site-wide enhancements (loaded by base.html); every form works without them.
(function () {
  "use strict";

  function describe(files, list) {
    list.replaceChildren();
    Array.from(files).forEach(function (file) {
      var item = document.createElement("li");
      var size = file.size < 1024 * 1024 ? Math.ceil(file.size / 1024) + " KB" : (file.size / 1048576).toFixed(1) + " MB";
      item.textContent = file.name + " (" + size + ")";  // textContent: a file name is never markup
      list.appendChild(item);
    });
  }

  // A drop zone around a native <input type=file multiple>: dropped files are added to the input.
  function enhance(zone) {
    var input = zone.querySelector('input[type="file"]');
    var list = zone.querySelector("[data-file-list]");
    if (!input || zone.dataset.ready) return;
    zone.dataset.ready = "1";
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("is-dragover"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("is-dragover"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      var merged = new DataTransfer();
      Array.from(input.files).concat(Array.from(event.dataTransfer.files)).forEach(function (f) { merged.items.add(f); });
      input.files = merged.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    input.addEventListener("change", function () { if (list) describe(input.files, list); });
  }

  function init(root) {
    root.querySelectorAll("[data-dropzone]").forEach(enhance);
    // Sign-up: send the browser's time zone so times are shown in it from the start.
    root.querySelectorAll('input[name="time_zone"][type="hidden"]').forEach(function (field) {
      if (!field.value) {
        try { field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* keep empty */ }
      }
    });
    var errors = root.querySelector("#form-errors");
    if (errors) errors.focus();
  }

  // Behaviour that used to be inline handlers (the Content-Security-Policy allows no inline script).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field instanceof Element && field.matches("[data-submit-on-change]") && field.form) field.form.submit();
  });
  document.addEventListener("focusin", function (event) {
    var field = event.target;
    if (field instanceof HTMLInputElement && field.matches("[data-select-on-focus]")) field.select();
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { if (event.detail && event.detail.elt) init(event.detail.elt); });
})();
