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
  // <div data-rows>: a list of input rows (e.g. a task's milestones) with a <template
  // data-row-template> of an empty row; "add" appends one, "remove" takes its row away (the
  // last row is emptied instead, so that the list keeps its inputs). The buttons are hidden
  // until this script shows them.
  document.querySelectorAll("[data-rows]").forEach(function (box) {
    var list = box.querySelector("[data-rows-list]");
    var template = box.querySelector("template[data-row-template]");
    var add = box.querySelector("[data-row-add]");
    if (!list || !template || !add) { return; }
    function wire(row) {
      var remove = row.querySelector("[data-row-remove]");
      if (!remove) { return; }
      remove.hidden = false;
      remove.addEventListener("click", function () {
        if (list.querySelectorAll("[data-row]").length > 1) {
          row.remove();
        } else {
          row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
        }
      });
    }
    list.querySelectorAll("[data-row]").forEach(wire);
    add.hidden = false;
    add.addEventListener("click", function () {
      var row = template.content.firstElementChild.cloneNode(true);
      list.appendChild(row);
      wire(row);
      var first = row.querySelector("input");
      if (first) { first.focus(); }
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
