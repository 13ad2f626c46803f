/* npctrial EDC behaviours. Everything scripted lives in static files: the Content-Security-Policy
   allows scripts from this origin only (no inline scripts, no inline event handlers, no eval).
   Mark elements with data attributes instead of writing handlers in templates:
     data-select-on-click   select the element's text when clicked (read-only links to copy)   */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("[data-select-on-click]");
    if (target && typeof target.select === "function") {
      target.select();
    }
  });
})();
