/* 投诉结果公示: the filters (company with suggestions from the directory, category, status, filing dates,
   collective complaint) are the page's address; the list comes from GET /v1/public/complaints, twenty at a
   time, the next page added under the list by "More" (the API's cursor). */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, api } = GC;
  const P = GC.Public;
  const form = document.getElementById("results-filters");
  const company = document.getElementById("f-company");
  const companyId = document.getElementById("f-company-id");
  const list = document.querySelector("[data-list='results']");
  const status = document.querySelector("[data-results-status]");
  const more = document.querySelector("[data-action='more']");
  const fold = form.querySelector("[data-filter-fields]");
  const filterCount = fold.querySelector("[data-filter-count]");
  // The filters the API takes, by their names in the form and the address.
  const FILTERS = ["company_id", "category", "status", "from", "to", "cluster_id"];
  // Twenty a page, or the address's own limit (1..100, as the API takes it).
  const PAGE_SIZE = new URLSearchParams(window.location.search).get("limit") || "20";
  let cursor = null;
  let shown = 0;

  const picker = GC.CompanyPicker(company, { onChoose: (item) => { companyId.value = item.id; } });
  company.addEventListener("input", () => { companyId.value = ""; });

  /* The summary of the folded filters says how many are set, so a phone shows that the list is filtered. */
  function countFilters(query) {
    const count = FILTERS.filter((name) => query.get(name)).length;
    filterCount.textContent = count ? t("results.filters_count", { count }) : "";
  }

  function apiQuery(query) {
    const asked = new URLSearchParams({ limit: PAGE_SIZE });
    FILTERS.forEach((name) => {
      if (query.get(name)) {
        asked.set(name, query.get(name));
      }
    });
    return asked;
  }

  async function load(query, next) {
    const asked = apiQuery(query);
    if (next) {
      asked.set("cursor", next);
    }
    GC.setStatus(status, t("results.loading"));
    more.disabled = true;
    const answer = await api("GET", "/v1/public/complaints?" + asked);
    more.disabled = false;
    if (!answer.ok) {
      GC.setStatus(status, GC.problemText(answer.problem));
      return;
    }
    const cards = answer.body.items.map(P.resultCard);
    if (next) {
      list.append(...cards);
      shown += cards.length;
      if (cards.length) {
        cards[0].querySelector("a").focus(); // keyboard users go on where the new entries start
      }
    } else {
      list.replaceChildren(...cards);
      shown = cards.length;
    }
    cursor = answer.body.next_cursor;
    more.hidden = !cursor;
    if (!shown) {
      GC.setStatus(status, t("results.none"));
    } else {
      GC.setStatus(status, t(cursor ? "results.found_more" : "results.found", { count: shown }));
    }
  }

  function problems() {
    const errors = [];
    const from = form.elements.namedItem("from").value;
    const to = form.elements.namedItem("to").value;
    if (from && to && to < from) {
      errors.push({ field: "to", text: t("results.dates_reversed") });
    }
    return errors;
  }

  /* A company typed but not picked: the directory's best match, else the person is told to pick one. */
  async function resolveCompany() {
    const name = company.value.trim();
    if (!name || companyId.value) {
      return true;
    }
    const answer = await api("GET", "/v1/public/companies?" + new URLSearchParams({ q: name, limit: "1" }));
    if (answer.ok && answer.body.items.length) {
      picker.show(answer.body.items[0]);
      companyId.value = answer.body.items[0].id;
      return true;
    }
    GC.showErrors(form, [{ field: "company", text: answer.ok ? t("results.company_not_found", { name }) : GC.problemText(answer.problem) }]);
    return false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!GC.passes(form, problems()) || !(await resolveCompany())) {
      fold.open = true;
      return;
    }
    const query = P.formQuery(form);
    countFilters(query);
    window.history.replaceState(null, "", "/public/results" + (query.toString() ? "?" + query : ""));
    load(query, null);
  });
  more.addEventListener("click", () => load(new URLSearchParams(window.location.search), cursor));

  const start = new URLSearchParams(window.location.search);
  P.fillForm(form, start);
  countFilters(start);
  // Open where there is room for the fields beside the list: folded, they would hide the filters in use.
  fold.open = window.matchMedia("(min-width: 48em)").matches;
  if (start.get("company_id")) {
    company.dataset.companyId = start.get("company_id");
  }
  load(start, null);
})();
