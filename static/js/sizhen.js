// Small behaviours shared by every page; no framework beyond htmx. No inline script or event
// handler attribute exists anywhere (the Content-Security-Policy forbids them): pages ask for
// behaviour with data- attributes handled here.
document.addEventListener("DOMContentLoaded", function () {
  var toggle = document.querySelector("[data-toggle-nav]");
  var nav = document.getElementById("sidenav");
  if (toggle && nav) {
    toggle.addEventListener("click", function () { nav.classList.toggle("open"); });
  }
  // Send the CSRF token with every htmx request.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.getAttribute("content"); }
  });
  // <form data-confirm="question">: ask before submitting (deletions).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        // Registered before the double-submit guard below, so that a cancelled form keeps
        // its buttons enabled.
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    });
  });
  // <a data-history-back href="fallback">: go back where the user came from, if anywhere.
  document.querySelectorAll("a[data-history-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
    });
  });
  // Guard against double submits: disable a form's buttons once it is submitted.
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
});
