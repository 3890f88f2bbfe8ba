/* The workplace's small scripts (served locally, no CDN): live countdowns coloured by
   urgency, the 1-hour quick-report clock on the intake form, repeatable source rows, the
   live preview of a warning notice, messages that fade, and the on-time-rate chart. Everything re-scans the page
   each second or after an htmx swap, so swapped-in partials need no wiring. */
(function () {
  "use strict";

  var HOUR = 3600 * 1000;

  function labels() {
    var el = document.getElementById("wp-i18n");
    return el ? el.dataset : {left: "", overdue: "-", d: "d", h: "h", m: "m", s: "s"};
  }

  function span(ms) {
    var t = labels();
    var total = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(total / 86400), h = Math.floor(total % 86400 / 3600);
    var m = Math.floor(total % 3600 / 60), s = total % 60;
    if (d > 0) { return d + t.d + h + t.h; }
    if (h > 0) { return h + t.h + m + t.m; }
    return m + t.m + (s < 10 ? "0" : "") + s + t.s;
  }

  function urgency(ms) {
    if (ms < 0) { return "urgency-overdue"; }
    if (ms < HOUR) { return "urgency-1h"; }
    if (ms < 3 * HOUR) { return "urgency-3h"; }
    return "urgency-later";
  }

  var LEVELS = ["urgency-overdue", "urgency-1h", "urgency-3h", "urgency-later"];

  function paint(el, ms) {
    var cls = urgency(ms);
    [el, el.closest(".urgency-row")].forEach(function (node) {
      if (!node) { return; }
      LEVELS.forEach(function (c) { node.classList.toggle(c, c === cls); });
    });
  }

  function countdownText(ms) {
    var t = labels();
    return ms < 0 ? t.overdue + " " + span(ms) : t.left + " " + span(ms);
  }

  // Count from the server's clock, not the PC's: the offset is measured once per page load.
  var serverNow = Date.parse(document.body.dataset.serverNow || "");
  var clockOffset = isNaN(serverNow) ? 0 : serverNow - Date.now();
  function serverTime() { return Date.now() + clockOffset; }

  function tickCountdowns() {
    var now = serverTime();
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) { return; }
      var ms = due - now;
      el.textContent = countdownText(ms);
      el.title = el.dataset.due;
      paint(el, ms);
    });
  }

  // The 1-hour quick report (R12): due = discovered-at (Asia/Shanghai) + the unit's minutes.
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tickQuickClock() {
    var clock = document.getElementById("quick-clock");
    if (!clock) { return; }
    var input = document.getElementById(clock.dataset.input);
    var out = clock.querySelector("[data-clock-left]");
    var dueOut = clock.querySelector("[data-clock-due]");
    if (!input || !input.value) { out.textContent = "—"; dueOut.textContent = "—"; return; }
    var value = input.value.length === 16 ? input.value + ":00" : input.value;
    var discovered = Date.parse(value + "+08:00");
    if (isNaN(discovered)) { return; }
    var due = discovered + parseInt(clock.dataset.minutes, 10) * 60000;
    var local = new Date(due + 8 * HOUR);  // shown in Asia/Shanghai whatever the browser's zone
    dueOut.textContent = pad(local.getUTCMonth() + 1) + "-" + pad(local.getUTCDate()) + " " +
      pad(local.getUTCHours()) + ":" + pad(local.getUTCMinutes());
    var ms = due - serverTime();
    out.textContent = countdownText(ms);
    paint(out, ms);
    clock.classList.toggle("border-danger", ms < 0);
  }

  // Warning notice preview: inputs marked data-preview-source fill the notice's seven fields.
  function previewValue(el) {
    if (el.tagName === "SELECT") {
      var opt = el.options[el.selectedIndex];
      return opt && opt.value ? opt.text : "";
    }
    if (el.type === "datetime-local") {
      return el.value ? el.value.replace("T", " ") : "";
    }
    return el.value;
  }

  function refreshPreview(form) {
    form.querySelectorAll("[data-preview-source]").forEach(function (el) {
      var key = el.dataset.previewSource;
      form.querySelectorAll("[data-preview='" + key + "']").forEach(function (target) {
        var text = previewValue(el);
        target.textContent = text || target.dataset.empty || "—";
        if (key === "level") {
          var level = el.value;
          var badge = target.closest(".notice-preview");
          if (badge) {
            ["1", "2", "3", "4"].forEach(function (l) { badge.classList.toggle("notice-level-" + l, l === level); });
          }
        }
      });
    });
  }

  function refreshAllPreviews(root) {
    (root || document).querySelectorAll("form[data-notice-form]").forEach(refreshPreview);
  }

  document.addEventListener("input", function (e) {
    var form = e.target.closest && e.target.closest("form[data-notice-form]");
    if (form) { refreshPreview(form); }
    if (e.target.id && document.getElementById("quick-clock")) { tickQuickClock(); }
  });
  document.addEventListener("change", function (e) {
    var form = e.target.closest && e.target.closest("form[data-notice-form]");
    if (form) { refreshPreview(form); }
  });

  // Repeatable rows (sources on the intake form).
  document.addEventListener("click", function (e) {
    var add = e.target.closest && e.target.closest("[data-add-row]");
    if (add) {
      e.preventDefault();
      var box = document.getElementById(add.dataset.addRow);
      var tpl = document.getElementById(add.dataset.template);
      var index = parseInt(box.dataset.nextIndex || "0", 10);
      box.dataset.nextIndex = index + 1;
      var html = tpl.innerHTML.replace(/__i__/g, String(index));
      box.insertAdjacentHTML("beforeend", html);
      var first = box.lastElementChild && box.lastElementChild.querySelector("input,select");
      if (first) { first.focus(); }
      return;
    }
    var remove = e.target.closest && e.target.closest("[data-remove-row]");
    if (remove) {
      e.preventDefault();
      var row = remove.closest(".source-row");
      if (row) { row.remove(); }
    }
  });

  function autohide(root) {
    (root || document).querySelectorAll("[data-autohide]:not([data-hiding])").forEach(function (el) {
      el.setAttribute("data-hiding", "1");
      setTimeout(function () { el.classList.remove("show"); setTimeout(function () { el.remove(); }, 300); },
        parseInt(el.dataset.autohide, 10) || 8000);
    });
  }

  // On-time rates (问责统计): a horizontal bar per section/body, drawn again after a swap.
  function drawRateCharts(root) {
    if (!window.echarts) { return; }
    (root || document).querySelectorAll("[data-rate-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.rateChart);
      if (!source) { return; }
      var data = JSON.parse(source.textContent);
      var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
      var pct = function (v) { return v === null || v === undefined ? "—" : v + "%"; };
      chart.setOption({
        animation: false,
        grid: {left: 8, right: 56, top: 8, bottom: 24, containLabel: true},
        tooltip: {trigger: "axis", axisPointer: {type: "shadow"}, valueFormatter: pct},
        xAxis: {type: "value", min: 0, max: 100, axisLabel: {formatter: "{value}%"}},
        // Whole names, wrapped onto a second line when long (never cut).
        yAxis: {type: "category", inverse: true, data: data.names, axisLabel: {width: 150, overflow: "break", lineHeight: 14}},
        series: [{name: data.name, type: "bar", data: data.rates, barMaxWidth: 18, itemStyle: {color: "#0d3b66"},
                  label: {show: true, position: "right", formatter: function (p) { return pct(p.value); }}}]
      });
    });
  }

  window.addEventListener("resize", function () {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-rate-chart]").forEach(function (el) {
      var chart = window.echarts.getInstanceByDom(el);
      if (chart) { chart.resize(); }
    });
  });

  // An htmx request that fails (a lost connection, an unexpected status) says so.
  document.addEventListener("htmx:responseError", function (e) {
    showError((e.detail && e.detail.xhr && e.detail.xhr.status) || "");
  });
  document.addEventListener("htmx:sendError", function () { showError(""); });

  function showError(status) {
    var box = document.getElementById("messages");
    if (!box) { return; }
    var t = document.getElementById("wp-i18n");
    var div = document.createElement("div");
    div.className = "alert alert-danger alert-dismissible shadow-sm fade show";
    div.setAttribute("role", "alert");
    div.textContent = (t ? t.dataset.failed : "Request failed") + (status ? " (" + status + ")" : "");
    box.appendChild(div);
  }

  document.addEventListener("htmx:afterSettle", function (e) {
    refreshAllPreviews(e.target);
    drawRateCharts();
    autohide();
    tickCountdowns();
  });

  // A <select data-autosubmit> submits its form when changed (no inline handlers: CSP).
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("select[data-autosubmit]") && e.target.form) {
      e.target.form.submit();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    refreshAllPreviews();
    drawRateCharts();
    autohide();
    tickCountdowns();
    tickQuickClock();
    setInterval(function () { tickCountdowns(); tickQuickClock(); }, 1000);
  });
}());

// The incident page's 打印 button (the print stylesheet in css/app.css lays the page out).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
  // The case file's next steps: open the step's form in its panel and bring it into view.
  const step = event.target.closest("[data-open-action]");
  if (step) {
    const panel = document.querySelector(step.getAttribute("href"));
    const form = document.getElementById("action-" + step.dataset.openAction) ||
      (panel && panel.querySelector("details.action"));
    if (form) {
      event.preventDefault();
      if (form.tagName === "DETAILS") form.open = true;
      form.scrollIntoView({ block: "center" });
    }
  }
});
