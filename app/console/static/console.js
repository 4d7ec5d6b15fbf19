// The console's live parts, without a build step: refresh fragments, count selections,
// read an uploaded policy file into the textarea.
(function () {
  "use strict";
  function refresh(box) {
    var url = box.getAttribute("data-refresh");
    var every = parseInt(box.getAttribute("data-every") || "5000", 10);
    function tick() {
      if (document.hidden) { return; }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) {
          if (r.redirected || r.status === 401) { window.location.reload(); return null; }
          return r.ok ? r.text() : null;
        })
        .then(function (text) { if (text !== null && text !== undefined) { box.innerHTML = text; } })
        .catch(function () { /* next tick */ });
    }
    window.setInterval(tick, every);
  }
  document.querySelectorAll("[data-refresh]").forEach(refresh);

  var form = document.getElementById("dead-form");
  if (form) {
    var boxes = form.querySelectorAll("input[name=ids]");
    var counter = document.getElementById("selected-count");
    var update = function () {
      counter.textContent = String(form.querySelectorAll("input[name=ids]:checked").length);
    };
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    var all = document.getElementById("select-all");
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
        update();
      });
    }
  }

  var file = document.getElementById("policy-file");
  if (file) {
    file.addEventListener("change", function () {
      var chosen = file.files && file.files[0];
      if (!chosen) { return; }
      chosen.text().then(function (text) { document.getElementById("policy-yaml").value = text; });
    });
  }
})();
