// The countdown of a slot hold on a doctor's page: how long the patient has left to confirm, and its end.
// The server writes when the hold ends (data-expires-at) and its own clock (data-server-now), so a device
// whose clock is wrong neither shortens nor stretches the hold. At zero the panel says the hold expired,
// and the "hold-expired" event makes the panel fetch the week grid again, where the time shows as free.
// A file, not an inline script: the Content-Security-Policy forbids inline script.
(function () {
  "use strict";

  function pad(number) {
    return number < 10 ? "0" + number : String(number);
  }

  function expire(panel) {
    var hadFocus = panel.contains(document.activeElement);
    panel.querySelectorAll("[data-hold-live]").forEach(function (part) {
      part.hidden = true;
    });
    var notice = panel.querySelector("[data-hold-expired]");
    notice.hidden = false;
    if (hadFocus) {
      notice.focus();
    }
    htmx.trigger(document.body, "hold-expired");
  }

  function start(timer) {
    if (timer.hasAttribute("data-counting")) {
      return;
    }
    timer.setAttribute("data-counting", "");
    var left = Date.parse(timer.getAttribute("data-expires-at")) - Date.parse(timer.getAttribute("data-server-now"));
    var deadline = Date.now() + left;
    var display = timer.querySelector("[data-countdown]");
    var interval = null;

    // True once the countdown is over (the panel was swapped away, or the time is up).
    function tick() {
      if (!timer.isConnected) {
        clearInterval(interval);
        return true;
      }
      var seconds = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      display.textContent = " (" + Math.floor(seconds / 60) + ":" + pad(seconds % 60) + " left)";
      if (seconds > 0) {
        return false;
      }
      clearInterval(interval);
      expire(timer.closest("[data-hold-panel]"));
      return true;
    }

    if (!tick()) {
      interval = setInterval(tick, 1000);
    }
  }

  // htmx calls this for the page on load and for every piece of content it swaps in later.
  htmx.onLoad(function (root) {
    if (root.matches && root.matches("[data-expires-at]")) {
      start(root);
    }
    if (root.querySelectorAll) {
      root.querySelectorAll("[data-expires-at]").forEach(start);
    }
  });
})();
