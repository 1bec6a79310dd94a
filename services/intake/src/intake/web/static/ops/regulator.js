/* The regulator view's extras beside the public statistics page's charts (statistics.js, fed by the regulator's
   figures): CSV links for the months in effect, and a company's scorecard over all its complaints. The account
   check keeps a signed-out visitor from a page of empty charts. */
(function () {
  "use strict";
  const GC = window.GC;
  const C = GC.Console;
  const { t, api } = GC;
  const P = GC.Public;

  function csvLinks() {
    const query = new URLSearchParams(window.location.search);
    document.querySelectorAll("[data-csv]").forEach((link) => {
      const params = new URLSearchParams({ by: link.dataset.csv, format: "csv" });
      ["from", "to"].forEach((name) => query.get(name) && params.set(name, query.get(name)));
      link.href = "/v1/regulator/statistics?" + params;
    });
  }

  const form = document.getElementById("scorecard-form");
  const figures = document.querySelector("[data-scorecard]");
  const status = document.querySelector("[data-scorecard-status]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = form.elements.namedItem("company_id").value.trim();
    if (!id) {
      return;
    }
    const answer = await api("GET", "/v1/regulator/companies/" + encodeURIComponent(id) + "/scorecard");
    if (!answer.ok) {
      figures.hidden = true;
      GC.setStatus(status, C.problemText(answer.problem));
      return;
    }
    const card = answer.body;
    P.figures(figures, [
      [t("ops.regulator.company"), card.company_name, "company"],
      [t("ops.regulator.volume"), P.count(card.volume), "volume"],
      [t("statistics.timely_rate"), P.rate(card.timely_rate), "timely_rate"],
      [t("statistics.relief_rate"), P.rate(card.relief_rate), "relief_rate"],
      [t("statistics.satisfaction"), P.rating(card.average_rating), "satisfaction"],
      [t("statistics.appeal_rate"), P.rate(card.appeal_rate), "appeal_rate"],
    ]);
    figures.hidden = false;
    GC.setStatus(status, "");
  });

  document.getElementById("statistics-form").addEventListener("submit", () => window.setTimeout(csvLinks));
  C.ready("regulator").then((account) => account && csvLinks());
})();
