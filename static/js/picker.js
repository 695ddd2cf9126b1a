// Searchable pickers (docs/decisions/0012-pickers.md): every <select data-picker> rendered by
// sizhen/core/widgets.py becomes a Tom Select box that searches the option's name, its code
// and the pinyin initials of its name (both given per option value in the select's
// data-picker-search), keeps the server's groups in their order and lists every option. The
// <select> itself stays in the form and is what gets submitted, so a page works the same
// without this script. Runs on page load and on content that htmx swaps in.
(function () {
  "use strict";

  function escapeText(escape, text) { return escape(String(text || "").trim()); }

  function settingsFor(select) {
    var multiple = select.multiple;
    var noMatch = select.getAttribute("data-no-match") || "";
    return {
      plugins: multiple ? {remove_button: {title: "移除"}} : ["dropdown_input"],
      searchField: ["text", "code", "initials"],
      // The server orders the groups (the city's departments first, then each district) and
      // the options within them; searching ranks by match, without reordering the groups.
      lockOptgroupOrder: true,
      maxOptions: null,
      // A single select keeps its empty choice ("请选择", "全部") as an option one can pick.
      allowEmptyOption: !multiple,
      placeholder: select.getAttribute("data-placeholder") || null,
      hidePlaceholder: false,
      closeAfterSelect: !multiple,
      render: {
        option: function (data, escape) {
          var text = escapeText(escape, data.text);
          var code = data.code && String(data.text).indexOf(data.code) === -1
            ? '<span class="picker-code">' + escape(data.code) + "</span>" : "";
          return "<div>" + text + code + "</div>";
        },
        item: function (data, escape) { return "<div>" + escapeText(escape, data.text) + "</div>"; },
        no_results: function (data, escape) {
          return '<div class="no-results" data-testid="picker-no-match">' + escape(noMatch) + "</div>";
        }
      }
    };
  }

  // The text of a <label> around the select, without the text of the fields inside it.
  function ownText(label) {
    var text = "";
    label.childNodes.forEach(function (node) {
      if (node.nodeType === Node.TEXT_NODE) { text += node.textContent; }
    });
    return text.trim();
  }

  // Tom Select takes the data-* attributes of each option as fields it can search.
  function addSearchFields(select) {
    var search = JSON.parse(select.getAttribute("data-picker-search") || "{}");
    Array.prototype.forEach.call(select.options, function (option) {
      var fields = search[option.value];
      if (fields) {
        option.setAttribute("data-code", fields[0]);
        option.setAttribute("data-initials", fields[1]);
      }
    });
  }

  function enhance(select) {
    if (select.tomselect || typeof window.TomSelect !== "function") { return; }
    addSearchFields(select);
    var label = select.closest("label");
    if (label && !select.hasAttribute("aria-label") && ownText(label)) {
      // Tom Select names its search box after the select's aria-label.
      select.setAttribute("aria-label", ownText(label));
    }
    var picker = new window.TomSelect(select, settingsFor(select));
    if (label) {
      // A click on the box must not reach the label around it, whose default action would
      // move the focus to the hidden <select> and close the list just opened.
      picker.wrapper.addEventListener("click", function (event) { event.preventDefault(); });
    }
  }

  function enhanceWithin(root) {
    if (!root || !root.querySelectorAll) { return; }
    if (root.matches && root.matches("select[data-picker]")) { enhance(root); }
    root.querySelectorAll("select[data-picker]").forEach(enhance);
  }

  document.addEventListener("DOMContentLoaded", function () { enhanceWithin(document); });
  document.addEventListener("htmx:load", function (event) { enhanceWithin(event.detail.elt); });
})();
