// Upload progress: send the form with XMLHttpRequest so the bar can follow the bytes; the
// server answers with the batch page's address, or with this form showing its errors.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("[data-testid=upload-form]");
  var bar = document.getElementById("upload-progress");
  if (!form || !bar || !window.FormData) { return; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", window.location.href);
    xhr.setRequestHeader("X-Sizhen-Upload", "1");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { bar.hidden = false; bar.value = Math.round(100 * e.loaded / e.total); }
    });
    xhr.addEventListener("load", function () {
      var type = xhr.getResponseHeader("Content-Type") || "";
      if (xhr.status === 200 && type.indexOf("application/json") === 0) {
        window.location.assign(JSON.parse(xhr.responseText).location);
      } else {
        // The server's own page (the form with its errors), rendered by Django's escaping
        // templates; it replaces this document as a navigation would.
        document.open(); document.write(xhr.responseText); document.close();
      }
    });
    xhr.addEventListener("error", function () { form.submit(); });
    xhr.send(new FormData(form));
  });
});
