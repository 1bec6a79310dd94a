/* The company directory (企业名录): search by name, alias, app or domain through GET /v1/public/companies;
   each company links to its scorecard. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, el, api } = GC;
  const form = document.getElementById("directory-form");
  const status = document.querySelector(".form-status");
  const target = document.querySelector("[data-list='companies']");
  const english = GC.config.lang === "en";

  function card(company) {
    const details = [
      [t("directory.aliases"), company.aliases],
      [t("directory.apps"), company.apps],
      [t("directory.domains"), company.domains],
    ].filter(([, values]) => values && values.length);
    return el("li", { class: "card" },
      el("h2", {}, el("a", { href: "/public/companies/" + encodeURIComponent(company.id),
        text: english ? company.name_en : company.name })),
      el("p", { class: "meta", lang: english ? "zh-CN" : "en", text: english ? company.name : company.name_en }),
      el("dl", { class: "facts compact" }, details.map(([label, values]) =>
        el("div", {}, el("dt", { text: label }), el("dd", { text: values.join(" · ") })))));
  }

  async function search() {
    const q = form.elements.namedItem("q").value.trim();
    const answer = await api("GET", "/v1/public/companies?" + new URLSearchParams({ q, limit: "50" }));
    if (!answer.ok) {
      GC.setStatus(status, GC.problemText(answer.problem));
      return;
    }
    target.replaceChildren(...answer.body.items.map(card));
    GC.setStatus(status, t("directory.found", { count: answer.body.items.length }));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  search();
})();
