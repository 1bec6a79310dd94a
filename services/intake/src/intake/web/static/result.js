/* One published result: GET /v1/public/complaints/{number}, its cluster of similar complaints from
   GET /v1/public/clusters/{id}; the complaint's text and the answer only where the complainant agreed. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, api } = GC;
  const P = GC.Public;
  const root = document.getElementById("result");
  const number = root.dataset.number;
  const status = root.querySelector("[data-result-status]");

  function bind(name) {
    return root.querySelector("[data-bind='" + name + "']");
  }

  async function showCluster(cluster) {
    const answer = await api("GET", "/v1/public/clusters/" + encodeURIComponent(cluster.id));
    const found = answer.ok ? answer.body
      : { id: cluster.id, size: cluster.size, collective: cluster.collective, first_number: "", opened_on: null };
    // 集体投诉 only once routing counts the cluster as collective; before that, similar complaints.
    const collective = Boolean(found.collective);
    bind("cluster_heading").textContent = t(collective ? "result.cluster" : "result.similar");
    bind("cluster_text").textContent = t(collective ? "result.cluster_text" : "result.similar_text", {
      size: P.count(found.size), first: found.first_number || t("figures.unknown"), opened: P.date(found.opened_on),
    });
    bind("cluster_link").href = "/public/results?" + new URLSearchParams({ cluster_id: cluster.id });
    P.show(root, "cluster", true);
  }

  async function load() {
    const answer = await api("GET", "/v1/public/complaints/" + encodeURIComponent(number));
    if (!answer.ok) {
      GC.setStatus(status, answer.problem.code === "complaint_not_found" ? t("result.not_found") : GC.problemText(answer.problem));
      return;
    }
    const item = answer.body;
    const category = GC.config.lang === "en" ? item.category_name_en : item.category_name_zh;
    const entries = [
      [t("result.company"), P.companyName(item), "company"],
      [t("result.category"), category || item.category, "category"],
      [t("result.status"), P.statusText(item), "status"],
      [t("result.filed_on"), P.date(item.filed_on), "filed_on"],
      [t("result.forwarded_on"), P.date(item.forwarded_on), "forwarded_on"],
      [t("result.responded_on"), P.date(item.responded_on), "responded_on"],
      [t("result.published_on"), P.date(item.published_on), "published_on"],
      [t("result.response_type"), P.responseType(item), "response_type"],
      [t("result.timely"), P.timely(item), "timely"],
      [t("result.rating"), P.rating(item.rating), "rating"],
    ];
    if (item.appeal_outcome) {
      entries.push([t("result.appeal_outcome"), GC.tOr("appeal_outcome." + item.appeal_outcome, item.appeal_outcome), "appeal_outcome"]);
    }
    P.figures(root.querySelector("[data-facts]"), entries);
    ["narrative", "answer"].forEach((name) => {
      bind(name).textContent = item[name] || "";
      P.show(root, name, Boolean(item[name]));
    });
    P.show(root, "withheld", !item.narrative_public);
    bind("company_link").href = "/public/companies/" + encodeURIComponent(item.company_id);
    if (item.cluster) {
      await showCluster(item.cluster);
    }
    GC.setStatus(status, "");
    P.show(root, "record", true);
  }

  load();
})();
