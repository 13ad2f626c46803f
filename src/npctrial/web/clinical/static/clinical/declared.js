/* Protocol-declared forms: while the form is typed, ask the server which fields are shown and what
   the calculated fields are (the protocol's rules run on the server only), then show/enable or
   hide/disable the fields (a disabled input is not submitted) and fill the calculated outputs.
   The form carries data-declared-preview="<url>"; each field row data-field="<name>". */
(function () {
  "use strict";
  function apply(form, data) {
    var hidden = {};
    (data.hidden || []).forEach(function (name) { hidden[name] = true; });
    form.querySelectorAll("[data-field]").forEach(function (row) {
      var name = row.getAttribute("data-field");
      row.hidden = !!hidden[name];
      row.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = !!hidden[name];
      });
    });
    Object.keys(data.calculated || {}).forEach(function (name) {
      var out = form.querySelector('[data-calculated="' + name + '"]');
      if (out) { out.textContent = data.calculated[name] || "—"; }
    });
  }
  /* Answers may come back out of order (several changes in quick succession, a busy server): only
     the answer to the latest request is applied, so a stale answer can never hide a field the
     latest values show. A failed latest request is asked again once. */
  var latest = 0;
  function refresh(form, retried) {
    var seq = ++latest;
    var body = new FormData(form);
    var token = form.querySelector("[name=csrfmiddlewaretoken]");
    fetch(form.getAttribute("data-declared-preview"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: token ? {"X-CSRFToken": token.value} : {}
    }).then(function (r) { return r.ok ? r.json() : null; }, function () { return null; }).then(function (data) {
      if (seq !== latest) { return; }
      if (data) { apply(form, data); form.setAttribute("data-preview-done", String(seq)); }
      else if (!retried) { refresh(form, true); }
    });
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-declared-preview]");
    if (form) { refresh(form); }
  });
})();
