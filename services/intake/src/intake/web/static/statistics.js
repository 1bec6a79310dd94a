/* 统计数据: the figures of GET /v1/public/statistics by month, by category and by region (province) for a
   range of months (the API's default: the last 12), each as a chart with its data table, and the totals. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, el, api } = GC;
  const P = GC.Public;
  const form = document.getElementById("statistics-form");
  const status = document.querySelector("[data-statistics-status]");
  const totals = document.querySelector("[data-show='totals']");
  const BREAKDOWNS = { month: "columns", category: "bars", region: "bars" };
  // The figures' source and the page's own path: the public ones, or those the form names (the console's
  // regulator view draws every complaint's figures the same way).
  const SOURCE = form.dataset.source || "/v1/public/statistics";
  const PAGE_PATH = form.getAttribute("action") || "/public/statistics";

  // A figure withheld to protect the few complainants behind it (disclosure control) shows as "<5".
  let minCount = 5;
  function shown(item, field, format) {
    return P.shown(item, field, format, minCount);
  }

  function row(item, by) {
    const label = by === "month" ? item.key : P.label(item, "label");
    // A withheld count is drawn as no bar, labelled as the table shows it.
    const text = item.received === null ? shown(item, "received", P.count) : null;
    return { label, short: by === "month" ? item.key.slice(5) : null, value: item.received || 0, text };
  }

  function table(section, by, rows) {
    section.querySelector("tbody").replaceChildren(...rows.map((item) => el("tr", {},
      el("th", { scope: "row", text: by === "month" ? item.key : P.label(item, "label") }),
      el("td", { text: shown(item, "received", P.count) }), el("td", { text: shown(item, "answered", P.count) }),
      el("td", { text: shown(item, "timely_rate", P.rate) }), el("td", { text: shown(item, "relief_rate", P.rate) }),
      el("td", { text: shown(item, "satisfaction", P.rating) }))));
  }

  function showTotals(body) {
    const figures = body.totals;
    totals.querySelector("[data-bind='totals_heading']").textContent = t("statistics.totals", { from: body.from, to: body.to });
    P.figures(totals.querySelector("[data-figures]"), [
      [t("statistics.received"), shown(figures, "received", P.count), "received"],
      [t("statistics.accepted"), shown(figures, "accepted", P.count), "accepted"],
      [t("statistics.rejected"), shown(figures, "rejected", P.count), "rejected"],
      [t("statistics.answered"), shown(figures, "answered", P.count), "answered"],
      [t("statistics.timely_rate"), shown(figures, "timely_rate", P.rate), "timely_rate"],
      [t("statistics.relief_rate"), shown(figures, "relief_rate", P.rate), "relief_rate"],
      [t("statistics.satisfaction"), shown(figures, "satisfaction", P.rating), "satisfaction"],
      [t("statistics.appeal_rate"), shown(figures, "appeal_rate", P.rate), "appeal_rate"],
      [t("statistics.median_handling_days"), shown(figures, "median_handling_days", P.days), "median_handling_days"],
    ]);
    totals.hidden = false;
  }

  /* The months in effect (the API's default range when none was asked for) shown in the form, so the fields
     say what the totals say. */
  function showRange(body) {
    [["from", body.from], ["to", body.to]].forEach(([name, month]) => {
      const control = form.elements.namedItem(name);
      if (!control.value && month) {
        control.value = month;
      }
    });
  }

  async function load(query) {
    GC.setStatus(status, t("statistics.loading"));
    const range = new URLSearchParams();
    ["from", "to"].forEach((name) => query.get(name) && range.set(name, query.get(name)));
    const answers = await Promise.all(Object.keys(BREAKDOWNS).map((by) =>
      api("GET", SOURCE + "?" + new URLSearchParams([...range, ["by", by]]))));
    const failed = answers.find((answer) => !answer.ok);
    if (failed) {
      GC.setStatus(status, failed.problem.code === "validation_failed" ? GC.problemText(failed.problem) : t("statistics.unavailable"));
      return;
    }
    minCount = answers[0].body.min_count || minCount;
    showTotals(answers[0].body);
    P.suppressedNote(document.querySelector("[data-bind='suppressed_note']"),
      answers.flatMap((answer) => [answer.body.totals, ...answer.body.rows]), minCount);
    showRange(answers[0].body);
    // Nothing published in the range: the totals say so; no chart of zeros. A withheld total (null) is not nothing.
    const empty = answers[0].body.totals.received === 0;
    Object.entries(BREAKDOWNS).forEach(([by, kind], index) => {
      const section = document.querySelector("[data-chart='" + by + "']");
      const rows = answers[index].body.rows;
      section.hidden = empty || !rows.length;
      if (!section.hidden) {
        GC.Charts.draw(section.querySelector("[data-drawing]"), kind, rows.map((item) => row(item, by)),
          { labelledBy: "chart-" + by + "-heading" });
        table(section, by, rows);
      }
    });
    GC.setStatus(status, empty ? t("statistics.empty") : "");
  }

  function problems() {
    const from = form.elements.namedItem("from").value;
    const to = form.elements.namedItem("to").value;
    return from && to && to < from ? [{ field: "to", text: t("statistics.months_reversed") }] : [];
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!GC.passes(form, problems())) {
      return;
    }
    const query = P.formQuery(form);
    window.history.replaceState(null, "", PAGE_PATH + (query.toString() ? "?" + query : ""));
    load(query);
  });

  const start = new URLSearchParams(window.location.search);
  P.fillForm(form, start);
  load(start);
})();
