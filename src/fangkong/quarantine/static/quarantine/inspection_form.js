// The new inspection: one button marks every unanswered item as met.
(function () {
  "use strict";
  var button = document.querySelector("[data-action='all-pass']");
  if (!button) return;
  button.addEventListener("click", function () {
    document.querySelectorAll("[data-testid='checklist-item']").forEach(function (row) {
      if (!row.querySelector("input[type='radio']:checked")) {
        var pass = row.querySelector("input[value='pass']");
        if (pass) pass.checked = true;
      }
    });
  });
})();
