// Tells the user when the page's module (and with it the pulse-jobs package)
// fails to load. Runs before app.js; app.js sets document.documentElement.dataset.ready.
(function () {
  "use strict";
  var failed = false;
  function fail(message) {
    if (failed || document.documentElement.dataset.ready === "true") return;
    failed = true;
    var boot = document.getElementById("boot");
    if (!boot) return;
    boot.hidden = false;
    boot.className = "boot error";
    boot.textContent = message;
    document.documentElement.dataset.ready = "failed";
  }
  var script = document.getElementById("app-script");
  if (script) {
    script.addEventListener("error", function () {
      fail("The page could not load its script or the pulse-jobs package (/pulse-jobs/web/index.js). " +
        "Was the package built (make pkg)?");
    });
  }
  window.addEventListener("error", function (e) {
    fail("The pulse-jobs package failed to start: " + (e && e.message ? e.message : "unknown error") + ".");
  });
  setTimeout(function () {
    fail("The pulse-jobs package did not load within 15 s. See the browser console.");
  }, 15000);
})();
