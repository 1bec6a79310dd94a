/* 我要投诉: the company search with suggestions from the directory, the checks the API makes repeated
   here for quick, exact messages (GB 11643 check digit with the constants the server sends, mobile
   number, lengths), evidence uploads, and the filing itself with an Idempotency-Key per attempt. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, api, session } = GC;
  const form = document.getElementById("complaint-form");
  const rules = GC.config.rules;
  const uploader = GC.Uploader(form.querySelector("[data-uploader]"));
  const status = form.querySelector(".form-status");
  const keyFor = GC.attempts();

  // --- the company, with suggestions from the directory ---------------------------------------------

  const company = document.getElementById("f-company");
  GC.CompanyPicker(company, { noneText: t("file.company_none") });

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
    // The message stays neutral: naming the expected character invites fixing the wrong digit.
    return value[17] === rules.id_check_characters[total % 11] ? null : { type: "id_number_check_digit" };
  }

  function value(name) {
    return form.elements.namedItem(name).value.trim();
  }

  function clientErrors() {
    const errors = GC.checkLengths(form);
    const flagged = new Set(errors.map((error) => error.field));
    const more = [
      ["complainant.id_number", idNumberError(value("complainant.id_number"))],
      ["complainant.phone", GC.phoneError(value("complainant.phone"))],
      ["complainant.email", GC.emailError(value("complainant.email"))],
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
      // A file that failed would otherwise be left out without a word: the receipt would list fewer files.
      const failed = uploader.failedText();
      if (failed) {
        GC.setStatus(status, "");
        GC.showErrors(form, [{ field: "evidence", text: failed }]);
        return;
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
      if (answer.status === 429) {
        GC.showRateLimit(form, answer.problem);
        return;
      }
      GC.showErrors(form, GC.problemErrors(answer.problem, FIELD_OF_TYPE));
    } finally {
      sending = false;
      button.disabled = GC.waiting(form);
    }
  });
})();
