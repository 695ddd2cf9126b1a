// Training pages: the video player records "watched to the end", the exam paper saves every
// answer as the person goes and counts down the time the server gave. No inline script (CSP).
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: body,
    });
  }

  function setUpPlayer(video) {
    video.addEventListener("ended", function () {
      var body = new FormData();
      body.append("event", "watched");
      post(video.getAttribute("data-progress-url"), body).then(function (response) {
        return response.json();
      }).then(function (data) {
        var status = document.querySelector('[data-testid="progress-status"]');
        if (status && data.label) { status.textContent = data.label; }
        var note = document.querySelector('[data-testid="player-status"]');
        if (note) { note.textContent = "已记录：" + (data.label || data.detail || ""); }
      });
    });
  }

  function setUpExam(form) {
    var url = form.getAttribute("data-autosave-url");
    var status = document.querySelector('[data-testid="save-status"]');

    function save(position) {
      var body = new FormData();
      body.append("position", position);
      form.querySelectorAll('[name="q' + position + '"]').forEach(function (input) {
        if ((input.type === "radio" || input.type === "checkbox") && !input.checked) { return; }
        body.append("q" + position, input.value);
      });
      var mark = form.querySelector('[data-saved="' + position + '"]');
      if (mark) { mark.textContent = "保存中…"; }
      post(url, body).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (result.ok) {
          if (mark) { mark.textContent = "已保存 " + result.data.saved_at; }
          if (status) { status.textContent = "第 " + position + " 题已于 " + result.data.saved_at + " 保存"; }
        } else {
          if (mark) { mark.textContent = result.data.detail || "保存失败"; }
          if (result.data.finished) { window.location.reload(); }
        }
      }).catch(function () {
        // A dropped connection: the answer stays in the page and is sent again on submit.
        if (mark) { mark.textContent = "网络中断，未保存；交卷时会一并提交"; }
      });
    }

    form.addEventListener("change", function (event) {
      var section = event.target.closest("[data-question]");
      if (section) { save(section.getAttribute("data-question")); }
    });
  }

  function setUpCountdown(element) {
    var remaining = parseInt(element.getAttribute("data-countdown"), 10) || 0;
    var ends = Date.now() + remaining * 1000;
    function tick() {
      var left = Math.max(0, Math.round((ends - Date.now()) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = left % 60;
      element.textContent = minutes + " 分 " + (seconds < 10 ? "0" : "") + seconds + " 秒";
      if (left <= 0) {
        // The server ends the attempt; the page shows its result.
        window.location.reload();
        return;
      }
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("video[data-progress-url]").forEach(setUpPlayer);
    document.querySelectorAll("form[data-autosave-url]").forEach(setUpExam);
    document.querySelectorAll("[data-countdown]").forEach(setUpCountdown);
  });
})();
