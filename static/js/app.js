// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";

  // Tell the server the browser's time zone, so deadlines show in the viewer's time too, once
  // per browser session (a traveller's new zone counts from the next one). The first use of Intl
  // blocks a page for tens of milliseconds on a phone, so a worker (js/zone.js) looks it up.
  var script = document.currentScript;
  var session = null;
  try { session = window.sessionStorage; } catch (e) { /* storage refused: look on every page */ }
  var tellZone = function (zone) {
    if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    }
    try { if (session) { session.setItem("tz-checked", "1"); } } catch (e) { /* storage full */ }
  };
  var zoneHere = function () {
    try {
      tellZone(Intl.DateTimeFormat().resolvedOptions().timeZone);
    } catch (e) { /* old browser: the server shows UTC */ }
  };
  if (!session || !session.getItem("tz-checked")) {
    var workerUrl = script && script.getAttribute("data-zone-worker");
    if (window.Worker && workerUrl) {
      try {
        var worker = new Worker(workerUrl);
        worker.onmessage = function (event) { worker.terminate(); tellZone(event.data); };
        worker.onerror = function (event) { event.preventDefault(); worker.terminate(); zoneHere(); };
      } catch (e) { zoneHere(); }
    } else {
      zoneHere();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    // The account menu is a <details>: let Escape and a click elsewhere close it, as menus do.
    document.querySelectorAll("details.account-menu").forEach(function (menu) {
      document.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && menu.open) {
          menu.open = false;
          menu.querySelector("summary").focus();
        }
      });
      document.addEventListener("click", function (event) {
        if (menu.open && !menu.contains(event.target)) { menu.open = false; }
      });
    });

    // Ask before irreversible actions.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });

    // Follow a background job: poll its progress and move the bar until it finishes.
    document.querySelectorAll("[data-job-url]").forEach(function (box) {
      var url = box.getAttribute("data-job-url");
      var bar = box.querySelector("progress");
      var percent = box.querySelector("[data-job-percent]");
      var label = box.querySelector("[data-job-label]");
      var stateLabel = box.querySelector("[data-job-state]");
      var failed = box.querySelector("[data-job-failed]");
      // Numbers in the page's language, as the server writes them (decimal sign, digit groups).
      var lang = document.documentElement.lang || "en";
      var whole = new Intl.NumberFormat(lang);
      var share = new Intl.NumberFormat(lang, { style: "percent" });
      function poll() {
        fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
          .then(function (job) {
            bar.value = job.percent;
            bar.textContent = share.format(job.percent / 100);
            if (percent) { percent.textContent = share.format(job.percent / 100); }
            if (label) { label.textContent = whole.format(job.done) + " / " + whole.format(job.total); }
            if (stateLabel) { stateLabel.textContent = job.state_label; }
            if (failed) { failed.textContent = whole.format(job.failed); }
            if (job.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
          })
          .catch(function () { window.setTimeout(poll, 5000); });
      }
      if (box.getAttribute("data-job-finished") !== "true") { window.setTimeout(poll, 700); }
    });

    // Move focus to the error summary so screen readers announce it.
    var errors = document.getElementById("form-errors");
    if (errors) { errors.focus(); }

    // Refuse an oversize file before sending it, and show upload progress.
    document.querySelectorAll("form.upload-form").forEach(function (form) {
      var input = form.querySelector("input[type=file]");
      var max = parseInt(form.getAttribute("data-max-bytes"), 10);
      form.addEventListener("submit", function (event) {
        if (input && input.files.length && input.files[0].size > max) {
          event.preventDefault();
          input.classList.add("is-invalid");
          input.setCustomValidity(form.getAttribute("data-too-large"));
          input.reportValidity();
          return;
        }
        if (!window.XMLHttpRequest || !window.FormData) { return; }
        event.preventDefault();
        var bar = form.querySelector(".progress");
        var inner = bar && bar.querySelector(".progress-bar");
        if (bar) { bar.classList.remove("d-none"); }
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action || window.location.href);
        xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
        xhr.upload.addEventListener("progress", function (e) {
          if (e.lengthComputable && inner) {
            var pct = Math.round((e.loaded / e.total) * 100);
            inner.style.width = pct + "%";
            bar.setAttribute("aria-valuenow", String(pct));
          }
        });
        xhr.addEventListener("load", function () {
          var type = xhr.getResponseHeader("Content-Type") || "";
          if (xhr.status === 200 && type.indexOf("application/json") === 0) {
            window.location.assign(JSON.parse(xhr.responseText).location);
            return;
          }
          // A refusal comes back as the page with the message beside the field: show it.
          document.open(); document.write(xhr.responseText); document.close();
        });
        xhr.addEventListener("error", function () { form.submit(); });
        xhr.send(new FormData(form));
      });
      if (input) { input.addEventListener("change", function () { input.setCustomValidity(""); }); }
    });

    // Count characters of the motivation.
    document.querySelectorAll("[data-counter-for]").forEach(function (counter) {
      var area = document.getElementById(counter.getAttribute("data-counter-for"));
      var min = parseInt(counter.getAttribute("data-min"), 10);
      function update() { counter.textContent = area.value.trim().length + " / " + min; }
      if (area) { area.addEventListener("input", update); update(); }
    });

    // Suggest the Latin spelling of the name as the student types it in Cyrillic.
    var profile = document.querySelector("form.profile-form");
    if (profile) {
      var url = profile.getAttribute("data-translit-url");
      var given = profile.querySelector("[data-translit-source=given]");
      var family = profile.querySelector("[data-translit-source=family]");
      var lang = profile.querySelector("[data-translit-lang]");
      var out = profile.querySelector(".translit-suggestion");
      var timer = null;
      var suggest = function () {
        var text = [given.value, family.value].join(" ").trim();
        if (!text) { return; }
        fetch(url + "?lang=" + encodeURIComponent(lang.value) + "&text=" + encodeURIComponent(text), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!data || !data.latin) { return; }
            out.textContent = out.getAttribute("data-label") + " ";
            var strong = document.createElement("strong"); strong.textContent = data.latin; out.appendChild(strong);
            var button = document.createElement("button");
            button.type = "button"; button.className = "btn btn-sm btn-link"; button.textContent = out.getAttribute("data-use");
            button.addEventListener("click", function () {
              fetch(url + "?lang=" + encodeURIComponent(lang.value) + "&text=" + encodeURIComponent(given.value.trim()), {credentials: "same-origin"})
                .then(function (r) { return r.json(); })
                .then(function (g) { profile.querySelector("[data-translit-target=given]").value = g.latin.toUpperCase(); });
              fetch(url + "?lang=" + encodeURIComponent(lang.value) + "&text=" + encodeURIComponent(family.value.trim()), {credentials: "same-origin"})
                .then(function (r) { return r.json(); })
                .then(function (f) { profile.querySelector("[data-translit-target=family]").value = f.latin.toUpperCase(); });
            });
            out.appendChild(button);
          });
      };
      [given, family, lang].forEach(function (el) {
        if (el) { el.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(suggest, 300); }); }
      });
    }
  });
})();
