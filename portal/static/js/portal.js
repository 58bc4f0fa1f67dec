// The portal's only script: htmx's CSRF header, focus after swaps, and a message when a request fails.
// Loaded as a file because the Content-Security-Policy forbids inline script.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Every unsafe htmx request carries the token Flask-WTF checks (the X-CSRFToken header).
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get") {
      event.detail.headers["X-CSRFToken"] = csrfToken();
    }
  });

  var FOCUSABLE = "a[href], button, input, select, textarea, [tabindex]";

  function focusInside(element) {
    var target = element.querySelector('[aria-invalid="true"]') || element.querySelector("[autofocus]") || element;
    if (!target.matches(FOCUSABLE)) {
      target.setAttribute("tabindex", "-1");
    }
    target.focus();
  }

  // After a swap, keyboard and screen-reader users land on the new content (on the first field with an
  // error, when there is one) instead of on the page's top, unless the focus is still where they are
  // working, e.g. in a search box that filters as they type.
  document.addEventListener("htmx:afterSettle", function (event) {
    var element = event.target;
    if (!element.isConnected || element === document.body) {
      return;
    }
    var active = document.activeElement;
    var lost = !active || active === document.body || !active.isConnected;
    if (lost || element.querySelector('[aria-invalid="true"]')) {
      focusInside(element);
    }
  });

  // A full page that comes back with form errors puts the keyboard on the first field to fix.
  document.addEventListener("DOMContentLoaded", function () {
    var invalid = document.querySelector('main [aria-invalid="true"]');
    if (invalid && (!document.activeElement || document.activeElement === document.body)) {
      invalid.focus();
    }
  });

  function say(text) {
    var region = document.getElementById("messages");
    if (!region) {
      return;
    }
    var message = document.createElement("p");
    message.className = "message message-error";
    message.textContent = text;
    region.replaceChildren(message);
  }

  // htmx swaps nothing for an error answer; say what happened where messages appear, with the request id.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = xhr.status === 403 || xhr.status === 404
      ? "That is not available to you. Reload the page and try again."
      : "Something went wrong. Reload the page and try again.";
    var requestId = xhr.getResponseHeader("X-Request-ID");
    say(requestId ? text + " (request id " + requestId + ")" : text);
  });

  document.addEventListener("htmx:sendError", function () {
    say("The clinic could not be reached. Check your connection and try again.");
  });
})();
