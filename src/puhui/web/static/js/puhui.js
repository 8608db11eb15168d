// Puhui pages: the little behaviour server-rendered pages need, with no inline script (CSP).
// Charts: an element with data-chart="ID" is drawn by ECharts from the JSON option in the
// <script type="application/json" id="ID"> data block the server rendered beside it.
(function () {
  "use strict";

  function drawCharts(root) {
    if (typeof window.echarts === "undefined") {
      return;
    }
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-chart"));
      if (!source || element.getAttribute("data-chart-drawn") === "1") {
        return;
      }
      var option = JSON.parse(source.textContent);
      var chart = window.echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(option);
      element.setAttribute("data-chart-drawn", "1");
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  // A form control with data-autosubmit submits its form when changed (filters).
  function wireAutosubmit(root) {
    root.querySelectorAll("[data-autosubmit]").forEach(function (control) {
      control.addEventListener("change", function () {
        if (control.form) {
          control.form.requestSubmit();
        }
      });
    });
  }

  // A button with data-confirm asks before its form is sent (irreversible actions).
  function wireConfirm(root) {
    root.querySelectorAll("[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
  }

  function wire(root) {
    drawCharts(root);
    wireAutosubmit(root);
    wireConfirm(root);
  }

  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSettle", function (event) { wire(event.target); });
})();
