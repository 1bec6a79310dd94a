/* 我要投诉: the company search with suggestions from the directory, the checks the API makes repeated
   here for quick, exact messages (GB 11643 check digit with the constants the server sends, mobile
   number, lengths), evidence uploads, and the filing itself with an Idempotency-Key per attempt. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, el, api, session } = GC;
  const form = document.getElementById("complaint-form");
  const rules = GC.config.rules;
  const uploader = GC.Uploader(form.querySelector("[data-uploader]"));
  const status = form.querySelector(".form-status");
  const keyFor = GC.attempts();

  // --- the company, with suggestions (ARIA 1.2 combobox with a list box) -------------------------------

  const company = document.getElementById("f-company");
  const options = document.getElementById("f-company-options");
  const chosen = document.getElementById("f-company-chosen");
  let suggestions = [];
  let active = -1;
  let asked = 0;
  let timer = null;

  function displayName(item) {
    return GC.config.lang === "en" ? item.name_en : item.name;
  }

  function close() {
    options.hidden = true;
    company.setAttribute("aria-expanded", "false");
    company.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    active = index;
    Array.from(options.children).forEach((option, position) => {
      option.setAttribute("aria-selected", String(position === index));
    });
    if (index >= 0) {
      company.setAttribute("aria-activedescendant", options.children[index].id);
      options.children[index].scrollIntoView({ block: "nearest" });
    } else {
      company.removeAttribute("aria-activedescendant");
    }
  }

  function choose(index) {
    const item = suggestions[index];
    company.value = displayName(item);
    company.dataset.companyId = item.id;
    chosen.textContent = t("file.company_chosen", { name: displayName(item) });
    close();
  }

  async function suggest() {
    const text = company.value.trim();
    const ask = ++asked;
    if (!text) {
      close();
      return;
    }
    const answer = await api("GET", "/v1/public/companies?" + new URLSearchParams({ q: text, limit: "8" }));
    if (ask !== asked || !answer.ok || document.activeElement !== company) {
      return; // a newer question is on its way, the person moved on, or the directory is away: free text still works
    }
    suggestions = answer.body.items;
    options.replaceChildren(...suggestions.map((item, index) => {
      const extra = [].concat(item.aliases || [], item.apps || []).slice(0, 4).join(" · ");
      const option = el("li", { id: "f-company-option-" + index, role: "option", "aria-selected": "false" },
        el("span", { class: "option-name", text: displayName(item) }),
        extra ? el("span", { class: "option-extra", text: extra }) : null);
      option.addEventListener("mousedown", (event) => {
        event.preventDefault(); // keep the focus in the input
        choose(index);
      });
      return option;
    }));
    if (!suggestions.length) {
      options.append(el("li", { role: "option", "aria-disabled": "true", "aria-selected": "false", class: "option-none",
        id: "f-company-option-none", text: t("file.company_none") }));
    }
    options.hidden = false;
    company.setAttribute("aria-expanded", "true");
    highlight(-1);
  }

  company.addEventListener("input", () => {
    delete company.dataset.companyId;
    chosen.textContent = "";
    clearTimeout(timer);
    timer = setTimeout(suggest, 200);
  });
  company.addEventListener("keydown", (event) => {
    const open = !options.hidden && suggestions.length > 0;
    if (event.key === "ArrowDown" && open) {
      event.preventDefault();
      highlight((active + 1) % suggestions.length);
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      highlight(active <= 0 ? suggestions.length - 1 : active - 1);
    } else if (event.key === "Enter" && open && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape" && !options.hidden) {
      event.preventDefault();
      close();
    }
  });
  company.addEventListener("blur", close);

  // --- the checks the API makes, here first --------------------------------------------------------------

  /* GB 11643-1999, as intake.domain.identity checks it (weights, check characters and regions from the server). */
  function idNumberError(raw) {
    const value = raw.trim().toUpperCase();
    if (!value) {
      return null; // "missing" is found by the length checks
    }
    if (!/^\d{17}[\dX]$/.test(value)) {
      return { type: "id_number_format" };
    }
    if (!rules.id_provinces.includes(value.slice(0, 2))) {
      return { type: "id_number_region", params: { code: value.slice(0, 2) } };
    }
    const [year, month, day] = [value.slice(6, 10), value.slice(10, 12), value.slice(12, 14)].map(Number);
    const born = new Date(Date.UTC(year, month - 1, day));
    if (born.getUTCMonth() !== month - 1 || born.getUTCDate() !== day || year < 1900 || born > new Date()) {
      return { type: "id_number_birth_date" };
    }
    const total = rules.id_weights.reduce((sum, weight, index) => sum + weight * Number(value[index]), 0);
    const expected = rules.id_check_characters[total % 11];
    return value[17] === expected ? null : { type: "id_number_check_digit", params: { expected } };
  }

  function phoneError(raw) {
    const value = raw.replace(/[\s-]/g, "");
    return !value || /^(\+?86)?1[3-9]\d{9}$/.test(value) ? null : { type: "phone_format" };
  }

  function emailError(raw) {
    const value = raw.trim();
    return !value || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value) ? null : { type: "email_format" };
  }

  function value(name) {
    return form.elements.namedItem(name).value.trim();
  }

  function clientErrors() {
    const errors = GC.checkLengths(form);
    const flagged = new Set(errors.map((error) => error.field));
    const more = [
      ["complainant.id_number", idNumberError(value("complainant.id_number"))],
      ["complainant.phone", phoneError(value("complainant.phone"))],
      ["complainant.email", emailError(value("complainant.email"))],
      ["occurred_on", value("occurred_on") > form.elements.namedItem("occurred_on").max ? { type: "occurred_on_future" } : null],
    ];
    more.forEach(([field, error]) => {
      if (error && !flagged.has(field)) {
        errors.push(Object.assign({ field }, error));
      }
    });
    // In the order of the form, so the summary reads top to bottom.
    const order = Array.from(form.querySelectorAll("[data-field]"), (node) => node.dataset.field);
    return errors.sort((a, b) => order.indexOf(a.field) - order.indexOf(b.field));
  }

  // Errors the API reports on the whole form belong to one field.
  const FIELD_OF_TYPE = { occurred_on_future: "occurred_on", company_missing: "company", evidence_repeated: "evidence" };

  function withExpectedDigit(errors) {
    // The API's message names the expected check character in English; say it in the page's language.
    return errors.map((error) => (error.type === "id_number_check_digit"
      ? Object.assign({}, error, { params: (idNumberError(value("complainant.id_number")) || {}).params }) : error));
  }

  function complaintBody() {
    const companyRef = company.dataset.companyId ? { id: company.dataset.companyId } : { name: company.value.trim() };
    return {
      complainant: {
        name: value("complainant.name"),
        id_number: value("complainant.id_number").toUpperCase(),
        phone: value("complainant.phone"),
        email: value("complainant.email") || null,
      },
      company: companyRef,
      category: value("category"),
      title: value("title"),
      description: value("description"),
      occurred_on: value("occurred_on"),
      desired_outcome: value("desired_outcome"),
      publication_consent: form.elements.namedItem("publication_consent").checked,
      evidence_ids: uploader.receipts().map((receipt) => receipt.evidence_id),
    };
  }

  let sending = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) {
      return;
    }
    const errors = clientErrors();
    if (!GC.passes(form, errors)) {
      return;
    }
    sending = true;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      if (uploader.busy()) {
        GC.setStatus(status, t("file.waiting_for_uploads"));
        await uploader.whenIdle();
      }
      GC.setStatus(status, t("file.sending"));
      const body = complaintBody();
      const answer = await api("POST", "/v1/complaints", { json: body, idempotencyKey: keyFor(body) });
      if (answer.ok) {
        session.keepReceipt({
          number: answer.body.number, access_code: answer.body.access_code, filed_at: new Date().toISOString(),
          company: company.value.trim(), evidence: uploader.receipts(),
        });
        session.rememberAccessCode(answer.body.number, answer.body.access_code);
        window.location.assign("/file/receipt?" + new URLSearchParams({ number: answer.body.number }));
        return;
      }
      GC.setStatus(status, "");
      GC.showErrors(form, withExpectedDigit(GC.problemErrors(answer.problem, FIELD_OF_TYPE)));
    } finally {
      sending = false;
      button.disabled = false;
    }
  });
})();
