// offnet explorer: a little script, no build step. Filters apply as they change, and the index
// status line refreshes itself while the explorer follows a chain.
(function () {
  "use strict";
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  var status = document.getElementById("index-status");
  var lag = document.getElementById("index-lag");
  if (status && lag) {
    setInterval(function () {
      fetch(status.dataset.statusUrl, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s || !s.indexedThrough) { return; }
          var link = document.getElementById("indexed-block");
          link.textContent = s.indexedThrough.number;
          link.href = "/blocks/" + s.indexedThrough.number;
          lag.textContent = s.lag;
        })
        .catch(function () {});
    }, 5000);
  }

  // An uploaded contract file is shown in the document box, so what is checked is visible.
  var upload = document.querySelector("#contract-form input[type=file]");
  if (upload) {
    upload.addEventListener("change", function () {
      var file = upload.files[0];
      if (!file || file.size > 1048576) { return; }
      file.text().then(function (text) {
        upload.form.querySelector("textarea[name=document]").value = text;
      });
    });
  }
})();
