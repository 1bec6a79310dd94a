/* My personal data (PIPL): everything the platform holds about the signed-in complainant, shown readably and offered
   as the JSON the API answers, and the request to erase the account with its complaints' personal data. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, tOr, el, api, session } = GC;
  const IDENTITY = ["name", "id_number", "phone", "email"];
  const IDENTITY_LABELS = { name: "file.name", id_number: "file.id_number", phone: "file.phone", email: "file.email" };

  if (!session.signedIn()) {
    window.location.replace("/account/login?" + new URLSearchParams({ next: window.location.pathname }));
    return;
  }
  const status = document.querySelector("[data-status]");

  function fact(label, value) {
    return value === null || value === undefined || value === "" ? [] : [el("dt", { text: label }), el("dd", { text: String(value) })];
  }

  function complaintSection(complaint) {
    const identity = complaint.complainant || {};
    const facts = [
      ...fact(t("follow.title_label"), complaint.title),
      ...fact(t("follow.description"), complaint.description),
      ...fact(t("follow.desired_outcome"), complaint.desired_outcome),
      ...fact(t("follow.occurred_on"), complaint.occurred_on),
      ...IDENTITY.flatMap((field) => fact(t(IDENTITY_LABELS[field]), identity[field])),
      ...fact(t("data.submitted_at"), complaint.submitted_at ? GC.formatDateTime(complaint.submitted_at) : null),
      ...fact(t("data.erasure_due"), complaint.erasure_due_at ? GC.formatDateTime(complaint.erasure_due_at) : null),
    ];
    const supplements = (complaint.supplements || []).map((item) => el("li", { text: item.text }));
    const timeline = (complaint.timeline || []).map((entry) => el("li", {},
      el("span", { class: "meta", text: GC.formatDateTime(entry.at) + " " }),
      el("span", { text: tOr("timeline." + entry.action, entry.action.replace(/_/g, " ")) })));
    return el("article", { class: "card" },
      el("h3", {}, el("span", { class: "code", text: complaint.number }), " ",
        el("span", { class: "badge", "data-status": complaint.status, text: tOr("status." + complaint.status, complaint.status) })),
      el("dl", { class: "facts" }, ...facts),
      supplements.length ? el("h4", { text: t("follow.supplements") }) : null,
      supplements.length ? el("ul", {}, ...supplements) : null,
      el("h4", { text: t("data.timeline") }),
      el("ol", {}, ...timeline));
  }

  async function load() {
    const answer = await api("GET", "/v1/accounts/me/data");
    if (!answer.ok) {
      if (answer.status === 401) {
        window.location.replace("/account/login?" + new URLSearchParams({ next: window.location.pathname }));
      }
      GC.setStatus(status, GC.problemText(answer.problem));
      return;
    }
    const data = answer.body;
    const account = data.account || {};
    document.querySelector("[data-account]").replaceChildren(
      ...fact(t("account.login"), account.login),
      ...fact(t("file.name"), account.name),
      ...fact(t("data.created_at"), account.created_at ? GC.formatDateTime(account.created_at) : null),
      ...fact(t("data.erasure_due"), account.erasure_due_at ? GC.formatDateTime(account.erasure_due_at) : null));
    const complaints = document.querySelector("[data-complaints]");
    complaints.replaceChildren(...data.complaints.map(complaintSection));
    document.querySelector("[data-show='empty']").hidden = data.complaints.length > 0;
    // The same data as the API answers it, to keep: a file made in the browser, nothing sent anywhere.
    const download = document.querySelector("[data-action='download']");
    download.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
    download.hidden = false;
    GC.setStatus(status, t("data.loaded", { count: data.complaints.length }));
  }

  const form = document.getElementById("erasure-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    GC.clearErrors(form);
    const answer = await api("POST", "/v1/accounts/me/erasure");
    if (!answer.ok) {
      if (answer.problem.code === "erasure_refused") {
        const numbers = Object.entries(answer.problem.complaints || {});
        const why = numbers.map(([number, reason]) => number + "：" + tOr("erasure.reason." + reason, reason)).join("；");
        GC.showErrors(form, [{ field: "", text: t("problem.erasure_refused") + (why ? " " + why : "") }]);
      } else {
        GC.showProblem(form, answer.problem);
      }
      return;
    }
    GC.setStatus(form.querySelector(".form-status"), t("data.erasure_asked", { at: GC.formatDateTime(answer.body.erasure_due_at) }));
    load();
  });

  load();
})();
