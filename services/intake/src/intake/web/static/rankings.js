/* 企业排行: companies ranked over a period (GET /v1/public/rankings), as a table; the period and the
   order are the page's address. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, el, api } = GC;
  const P = GC.Public;
  const form = document.getElementById("rankings-form");
  const status = document.querySelector("[data-rankings-status]");
  const table = document.querySelector("[data-show='table']");
  const ORDERS = Array.from(form.elements.namedItem("order_by").options, (option) => option.value);
  const FORMAT = {
    per_million_users: P.perMillion,
    volume: P.count, timely_rate: P.rate, relief_rate: P.rate, average_rating: P.rating, appeal_rate: P.rate,
  };

  async function load(query) {
    const asked = new URLSearchParams({ limit: "50" });
    ["period", "order_by"].forEach((name) => {
      if (query.get(name)) {
        asked.set(name, query.get(name));
      }
    });
    GC.setStatus(status, t("results.loading"));
    const answer = await api("GET", "/v1/public/rankings?" + asked);
    if (!answer.ok) {
      GC.setStatus(status, GC.problemText(answer.problem));
      table.hidden = true;
      return;
    }
    const period = form.elements.namedItem("period");
    table.querySelector("caption").textContent = t("rankings.caption", { period: period.options[period.selectedIndex].textContent });
    table.querySelector("tbody").replaceChildren(...answer.body.items.map((item) => el("tr", {},
      el("td", { text: P.count(item.rank) }),
      el("th", { scope: "row" }, el("a", { href: "/public/companies/" + encodeURIComponent(item.company_id), text: P.companyName(item) })),
      // A figure withheld to protect the few complainants behind it (disclosure control) shows as "<5".
      ORDERS.map((order) => el("td", { "data-figure": order, text: P.shown(item, order, FORMAT[order], answer.body.min_count) })))));
    table.hidden = !answer.body.items.length;
    P.suppressedNote(document.querySelector("[data-bind='suppressed_note']"), answer.body.items, answer.body.min_count);
    GC.setStatus(status, answer.body.items.length ? "" : t("rankings.none"));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = P.formQuery(form);
    window.history.replaceState(null, "", "/public/rankings?" + query);
    load(query);
  });

  const start = new URLSearchParams(window.location.search);
  P.fillForm(form, start);
  load(start);
})();
