/* The home page's headline figures (GET /v1/public/statistics/summary); the "not published yet" note
   stays when nothing is published or the figures are unavailable. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t } = GC;
  const P = GC.Public;
  const section = document.getElementById("headline-statistics");

  async function load() {
    const answer = await GC.api("GET", "/v1/public/statistics/summary");
    if (!answer.ok || !answer.body || !answer.body.published) {
      return;
    }
    const summary = answer.body;
    P.figures(section.querySelector("[data-figures]"), [
      [t("home.stats_published"), P.count(summary.published), "published"],
      [t("home.stats_answered_rate"), P.rate(summary.answered_rate), "answered_rate"],
      [t("home.stats_timely_rate"), P.rate(summary.timely_rate), "timely_rate"],
      [t("home.stats_satisfaction"), P.rating(summary.satisfaction), "satisfaction"],
      [t("home.stats_companies"), P.count(summary.companies), "companies"],
      [t("home.stats_last_30_days"), P.count(summary.last_30_days_published), "last_30_days_published"],
    ]);
    P.show(section, "pending", false);
    P.show(section, "links", true);
  }

  load();
})();
