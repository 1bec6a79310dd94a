/* A company's page: its scorecard for a period (GET /v1/public/companies/{id}/scorecard) and its most
   recent published results (GET /v1/public/complaints?company_id=). */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, api } = GC;
  const P = GC.Public;
  const root = document.getElementById("company");
  const companyId = root.dataset.companyId;
  const status = root.querySelector("[data-company-status]");
  const form = root.querySelector("[data-period-form]");
  const RECENT = "5";

  function bind(name) {
    return document.querySelector("[data-bind='" + name + "']");
  }

  function periodText(period) {
    const option = Array.from(form.elements.namedItem("period").options).find((item) => item.value === period);
    return option ? option.textContent : period;
  }

  async function scorecard(period) {
    const query = period ? "?" + new URLSearchParams({ period }) : "";
    const answer = await api("GET", "/v1/public/companies/" + encodeURIComponent(companyId) + "/scorecard" + query);
    if (!answer.ok) {
      GC.setStatus(status, answer.problem.code === "company_not_found" ? t("scorecard.not_found") : GC.problemText(answer.problem));
      P.show(root, "scorecard", false);
      return null;
    }
    const card = answer.body;
    bind("company_name").textContent = P.companyName(card);
    document.title = P.companyName(card) + " · " + t("scorecard.title") + " · " + t("site.name");
    bind("period").textContent = t("scorecard.scorecard_period", { period: periodText(period) || card.period });
    // A figure withheld to protect the few complainants behind it (disclosure control) shows as "<5".
    const shown = (field, format) => P.shown(card, field, format, card.min_count);
    P.figures(root.querySelector("[data-figures]"), [
      [t("scorecard.volume"), shown("volume", P.count), "volume"],
      [t("scorecard.timely_rate"), shown("timely_rate", P.rate), "timely_rate"],
      [t("scorecard.relief_rate"), shown("relief_rate", P.rate), "relief_rate"],
      [t("scorecard.average_rating"), shown("average_rating", P.rating), "average_rating"],
      [t("scorecard.appeal_rate"), shown("appeal_rate", P.rate), "appeal_rate"],
      [t("scorecard.per_million_users"), shown("per_million_users", P.perMillion), "per_million_users"],
    ]);
    P.suppressedNote(bind("suppressed_note"), [card], card.min_count);
    const users = bind("user_base");
    users.hidden = card.user_base === null;
    users.textContent = card.user_base === null ? "" : t("scorecard.user_base", { users: P.count(card.user_base) });
    P.show(root, "scorecard", true);
    GC.setStatus(status, "");
    return card;
  }

  async function recent(card) {
    const answer = await api("GET", "/v1/public/complaints?" + new URLSearchParams({ company_id: companyId, limit: RECENT }));
    if (!answer.ok || !answer.body.items.length) {
      P.show(root, "recent", false);
      return;
    }
    root.querySelector("[data-list='results']").replaceChildren(...answer.body.items.map(P.resultCard));
    bind("all_results").href = "/public/results?" + new URLSearchParams({ company: card.company_name, company_id: companyId });
    P.show(root, "recent", true);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const period = form.elements.namedItem("period").value;
    window.history.replaceState(null, "", window.location.pathname + (period ? "?" + new URLSearchParams({ period }) : ""));
    scorecard(period);
  });

  async function start() {
    const period = new URLSearchParams(window.location.search).get("period") || "";
    P.fillForm(form, new URLSearchParams({ period }));
    const card = await scorecard(period);
    if (card) {
      await recent(card);
    }
  }

  start();
})();
