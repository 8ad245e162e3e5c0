// The import form's progress: the upload's share as it is sent, then a bar that runs
// while the server checks and writes the rows; the answer page then replaces this one.
// Without scripts the form posts as any other.
"use strict";
(function () {
  const form = document.getElementById("import-form");
  const bar = document.getElementById("import-progress");
  const state = document.getElementById("import-state");
  if (!form || !bar || !state) return;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    bar.hidden = false;
    bar.value = 0;
    state.textContent = "Uploading…";
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    request.upload.addEventListener("load", function () {
      bar.removeAttribute("value");
      state.textContent = "Checking every row, then importing…";
    });
    request.addEventListener("load", function () {
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", function () {
      bar.hidden = true;
      state.textContent = "The upload failed: nothing was imported.";
    });
    request.send(new FormData(form));
  });
})();
