/* 重新投诉 / file again: a rejected complaint offers a new filing with what it said filled in.
   On the follow page, the case the page shows ("gc:case" from follow.js) colours its status badge by
   outcome and, when rejected, shows the button; the button keeps the complaint's non-sensitive fields
   (company, category, title, description, date, desired outcome) in sessionStorage for this tab, never in a
   URL and never the identity, and opens the filing form, which fills them in once and forgets them. */
(function () {
  "use strict";
  const KEY = "gc.refile";
  const store = window.sessionStorage;
  const FIELDS = ["category", "title", "description", "occurred_on", "desired_outcome"];

  function onFollowPage(view) {
    const panel = view.querySelector("[data-refile]");
    const badge = view.querySelector("[data-bind='status']");
    let complaint = null;
    document.addEventListener("gc:case", (event) => {
      complaint = event.detail;
      badge.dataset.status = complaint.status;
      panel.hidden = complaint.status !== "rejected";
    });
    panel.querySelector("button").addEventListener("click", () => {
      const requested = complaint.company.requested || {};
      const prefill = { company: { id: complaint.company.id || requested.id || null,
                                   name: complaint.company.name || requested.name || "" } };
      FIELDS.forEach((name) => { prefill[name] = complaint[name] || ""; });
      store.setItem(KEY, JSON.stringify(prefill));
      window.location.assign("/file");
    });
  }

  function onFilingForm(form) {
    const saved = store.getItem(KEY);
    if (!saved) {
      return;
    }
    store.removeItem(KEY);
    let prefill;
    try {
      prefill = JSON.parse(saved);
    } catch (error) {
      return;
    }
    const company = form.elements.namedItem("company");
    company.value = prefill.company.name || "";
    if (prefill.company.id) {
      company.dataset.companyId = prefill.company.id;
    }
    FIELDS.forEach((name) => {
      const field = form.elements.namedItem(name);
      if (field && prefill[name]) {
        field.value = prefill[name];
      }
    });
    const notice = document.querySelector("[data-refiled]");
    notice.hidden = false;
    notice.focus();
  }

  const view = document.getElementById("case");
  const form = document.getElementById("complaint-form");
  if (view && view.querySelector("[data-refile]")) {
    onFollowPage(view);
  } else if (form) {
    onFilingForm(form);
  }
})();
