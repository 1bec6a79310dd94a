/* 查询: a complaint by its number and access code (or the signed-in account's token): what was filed (with
   its evidence and supplements), status, timeline, deadlines, the company's answer and questions, messages,
   and the actions its state allows (allowed_actions from the API: supplement, rate, appeal, withdraw; one
   more evidence file in the states the page was rendered with); and, while it is given, withdrawing the consent
   to publishing the complaint's text (in any state). */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, tOr, el, api, session } = GC;
  const lookup = document.getElementById("lookup-form");
  const view = document.getElementById("case");
  const caseStatus = view.querySelector("[data-case-status]");
  const ACTIONS = { supplement: "supplement", rate: "rating", appeal: "appeal", withdraw: "withdrawal" };
  const ENDED = ["closed", "withdrawn", "rejected"];
  const PAGE = JSON.parse(document.getElementById("follow-data").textContent);
  const uploader = GC.Uploader(view.querySelector("[data-action-form='supplement'] [data-uploader]"));
  let number = null;
  let accessCode = null;
  let evidence = [];
  // Files go straight onto the complaint (no submit): each one is in the case's list once uploaded.
  const adder = GC.Uploader(view.querySelector("[data-action-panel='evidence'] [data-uploader]"), {
    path: () => "/v1/complaints/" + encodeURIComponent(number) + "/evidence",
    uploadsPath: () => "/v1/complaints/" + encodeURIComponent(number) + "/uploads",
    headers: () => authHeaders(),
    attaches: true,
    already: () => evidence.length,
    uploaded: async (receipt) => {
      await load(false);
      GC.setStatus(caseStatus, t("follow.evidence_added", { name: receipt.filename }));
    },
  });

  function bind(name, text) {
    view.querySelector("[data-bind='" + name + "']").textContent = text;
  }

  function show(name, visible) {
    view.querySelector("[data-show='" + name + "']").hidden = !visible;
  }

  function list(name, items) {
    view.querySelector("[data-list='" + name + "']").replaceChildren(...items);
  }

  function access() {
    return accessCode ? { accessCode } : {};
  }

  /* The same credentials api() sends, for the uploader's own request (the session cookie goes by itself). */
  function authHeaders() {
    return accessCode ? { "X-Access-Code": accessCode } : session.csrfHeaders();
  }

  /* A file of the case: its name and size, and a button that asks for a short-lived download link. */
  function evidenceItem(item) {
    const link = el("a", { class: "download", hidden: true, rel: "noopener", target: "_blank" },
      t("follow.download_link", { name: item.filename }));
    const button = el("button", { type: "button", class: "link-button", "data-download": item.evidence_id },
      t("follow.download"), el("span", { class: "visually-hidden", text: " " + item.filename }));
    button.addEventListener("click", async () => {
      const answer = await api("GET", "/v1/complaints/" + encodeURIComponent(number) + "/evidence/"
        + encodeURIComponent(item.evidence_id) + "/link", access());
      if (!answer.ok) {
        GC.setStatus(caseStatus, GC.problemText(answer.problem));
        return;
      }
      link.href = answer.body.url;
      link.hidden = false;
      button.hidden = true;
      link.focus();
    });
    return el("li", { class: "file-item", "data-evidence-id": item.evidence_id },
      el("span", { class: "file-name", text: item.filename }),
      el("span", { class: "file-size", text: GC.formatBytes(item.size) }), button, link);
  }

  function render(complaint) {
    bind("number", complaint.number);
    bind("status", tOr("status." + complaint.status, complaint.status));
    view.querySelector("[data-bind='overdue']").hidden = !complaint.overdue;
    bind("title", complaint.title);
    bind("category", PAGE.categories[complaint.category] || complaint.category);
    bind("occurred_on", complaint.occurred_on ? GC.formatDate(complaint.occurred_on) : "");
    bind("description", complaint.description);
    bind("desired_outcome", complaint.desired_outcome);
    evidence = complaint.evidence;
    const byId = new Map(evidence.map((item) => [item.evidence_id, item]));
    list("evidence", evidence.map(evidenceItem));
    show("no_evidence", evidence.length === 0);
    view.querySelector("[data-action-panel='evidence']").hidden = !PAGE.evidence_statuses.includes(complaint.status);
    // The newest supplement first, as the timeline; each with the files it brought.
    show("supplements", complaint.supplements.length > 0);
    list("supplements", complaint.supplements.slice().reverse().map((item) => el("li", { class: "supplement" },
      el("p", { class: "meta" }, el("time", { datetime: item.at, text: GC.formatDateTime(item.at) })),
      el("p", { class: "answer", text: item.text }),
      item.evidence.length ? el("p", { class: "meta", text: t("follow.supplement_files") }) : null,
      item.evidence.length ? el("ul", { class: "evidence-files" },
        item.evidence.map((ref) => evidenceItem(byId.get(ref.evidence_id) || ref))) : null)));
    const requested = complaint.company.requested || {};
    bind("company", complaint.company.name || requested.name || requested.id || "");
    bind("submitted_at", GC.formatDateTime(complaint.submitted_at));
    show("response_due", Boolean(complaint.response_due));
    bind("response_due", complaint.response_due ? GC.formatDate(complaint.response_due) : "");
    show("appeal_due", Boolean(complaint.appeal_due));
    bind("appeal_due", complaint.appeal_due ? GC.formatDate(complaint.appeal_due) : "");

    const rejection = complaint.status === "rejected" ? complaint.rejection : null;
    show("rejection", Boolean(rejection));
    bind("rejection", rejection ? tOr("rejection." + rejection.reason, rejection.reason || "") : "");

    show("questions", complaint.info_requests.length > 0);
    list("questions", complaint.info_requests.map((item) => el("li", {},
      el("p", { class: "meta", text: GC.formatDateTime(item.at) }), el("p", { text: item.question }))));

    const response = complaint.response;
    show("response", Boolean(response));
    bind("response_type", response ? tOr("response_type." + response.type, response.type) : "");
    bind("response_at", response ? GC.formatDateTime(response.at) : "");
    bind("response_text", response ? response.text : "");

    // Consent to publishing the text: given at filing, withdrawn for good (the timeline says when), or never given.
    const withdrawal = complaint.timeline.find((entry) => entry.action === "withdraw_publication_consent");
    bind("publication", complaint.publication_consent ? t("follow.publication_consented")
      : withdrawal ? t("follow.publication_withdrawn", { at: GC.formatDateTime(withdrawal.at) })
        : t("follow.publication_not_consented"));
    view.querySelector("[data-consent-panel]").hidden = !complaint.publication_consent;
    // Erasing the personal data: asked for once the complaint is over (the API refuses it before, and says why).
    view.querySelector("[data-erasure]").hidden = !ENDED.includes(complaint.status);

    const rating = complaint.rating;
    show("rating", Boolean(rating));
    bind("rating", rating ? t("rating." + rating.rating) + (rating.comment ? " · " + rating.comment : "") : "");

    const allowed = complaint.allowed_actions.filter((action) => action in ACTIONS);
    show("actions", allowed.length > 0);
    Object.keys(ACTIONS).forEach((action) => {
      view.querySelector("[data-action-panel='" + action + "']").hidden = !allowed.includes(action);
    });
    show("rate_or_appeal", allowed.includes("rate") || allowed.includes("appeal"));

    list("timeline", complaint.timeline.slice().reverse().map((entry) => el("li", {},
      el("time", { datetime: entry.at, text: GC.formatDateTime(entry.at) }),
      el("span", { class: "what", text: tOr("timeline." + entry.action, entry.action.replace(/_/g, " ")) }),
      el("span", { class: "badge small", "data-status": entry.status, text: tOr("status." + entry.status, entry.status) }))));
    document.dispatchEvent(new CustomEvent("gc:case", { detail: complaint }));
  }

  async function loadMessages() {
    const answer = await api("GET", "/v1/complaints/" + encodeURIComponent(number) + "/messages?limit=20", access());
    const items = answer.ok ? answer.body.items : [];
    const english = GC.config.lang === "en";
    list("messages", items.map((message) => el("li", { class: message.read_at ? "" : "unread" },
      el("p", { class: "meta" }, GC.formatDateTime(message.created_at),
        message.read_at ? null : el("span", { class: "badge", text: t("messages.unread") })),
      el("p", { class: "message-title", text: english ? message.title_en : message.title_zh }),
      el("p", { text: english ? message.body_en : message.body_zh }))));
    show("no_messages", answer.ok && items.length === 0);
    // Shown is read: the unread ones are marked (their badge stays until the page is left).
    const unread = items.filter((message) => !message.read_at);
    await Promise.all(unread.map((message) => api("POST", "/v1/complaints/" + encodeURIComponent(number) + "/messages/"
      + encodeURIComponent(message.id) + "/read", access())));
    if (unread.length) {
      document.dispatchEvent(new CustomEvent("gc:messages-read"));
    }
  }

  /* Read the complaint; false when it cannot be read with this access. */
  async function load(announce) {
    const answer = await api("GET", "/v1/complaints/" + encodeURIComponent(number), access());
    if (!answer.ok) {
      return answer;
    }
    render(answer.body);
    lookup.hidden = true;
    view.hidden = false;
    if (announce) {
      // The status badge says the status; the live region only says that the case is there.
      GC.setStatus(caseStatus, t("follow.loaded"));
    }
    loadMessages();
    return answer;
  }

  async function open(wanted, code) {
    number = wanted;
    accessCode = code;
    const answer = await load(true);
    if (answer.ok) {
      if (code) {
        session.rememberAccessCode(number, code);
      }
      window.history.replaceState(null, "", "/follow?" + new URLSearchParams({ number }));
      view.querySelector("h2").focus();
    }
    return answer;
  }

  /* The lookup did not open the complaint: not found (whatever the reason: nothing to tell a guesser), or
     the API's problem (a rate limit with its wait). */
  function failed(answer) {
    if (answer.status === 404) {
      GC.showErrors(lookup, [{ field: "", text: t("follow.not_found") }]);
    } else {
      GC.showProblem(lookup, answer.problem);
    }
  }

  lookup.addEventListener("submit", async (event) => {
    event.preventDefault();
    const errors = GC.checkLengths(lookup);
    const wanted = lookup.elements.namedItem("number").value.trim().toUpperCase();
    const code = lookup.elements.namedItem("access_code").value.replace(/[\s-]/g, "").toUpperCase();
    if (!code && !session.signedIn()) {
      errors.push({ field: "access_code", type: "missing" });
    }
    if (!GC.passes(lookup, errors)) {
      return;
    }
    const answer = await open(wanted, code || null);
    if (!answer.ok) {
      failed(answer);
    }
  });

  // --- the actions --------------------------------------------------------------------------------

  function actionBody(action, form) {
    const field = (name) => form.elements.namedItem(name);
    if (action === "supplement") {
      return { text: field("text").value.trim(), evidence_ids: uploader.receipts().map((receipt) => receipt.evidence_id) };
    }
    if (action === "rate") {
      const picked = form.querySelector("input[name=rating]:checked");
      return { rating: picked ? Number(picked.value) : null, comment: field("comment").value.trim() };
    }
    if (action === "appeal") {
      return { reason: field("reason").value.trim() };
    }
    return { reason: field("reason").value.trim() };
  }

  function actionErrors(action, form, body) {
    const errors = GC.checkLengths(form);
    if (action === "rate" && body.rating === null) {
      errors.push({ field: "rating", type: "rating_missing" });
    }
    if (action === "withdraw" && !form.elements.namedItem("confirm").checked) {
      errors.push({ field: "confirm", type: "withdraw_unconfirmed" });
    }
    return errors;
  }

  Object.entries(ACTIONS).forEach(([action, path]) => {
    const form = view.querySelector("[data-action-form='" + action + "']");
    const keyFor = GC.attempts();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = actionBody(action, form);
      const errors = actionErrors(action, form, body);
      if (!GC.passes(form, errors)) {
        return;
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        if (action === "supplement" && uploader.busy()) {
          GC.setStatus(caseStatus, t("file.waiting_for_uploads"));
          await uploader.whenIdle();
          body.evidence_ids = uploader.receipts().map((receipt) => receipt.evidence_id);
        }
        // As when filing: a file that failed is not left out without a word.
        const failed = action === "supplement" ? uploader.failedText() : null;
        if (failed) {
          GC.setStatus(caseStatus, "");
          GC.showErrors(form, [{ field: "evidence", text: failed }]);
          return;
        }
        const answer = await api("POST", "/v1/complaints/" + encodeURIComponent(number) + "/" + path,
          Object.assign({ json: body, idempotencyKey: keyFor(body) }, access()));
        if (!answer.ok) {
          GC.showProblem(form, answer.problem);
          return;
        }
        form.reset();
        if (action === "supplement") {
          uploader.reset();
        }
        await load(false);
        // An unsatisfied rating leaves the complaint answered, and the appeal open.
        const done = action === "rate" && answer.body.status !== "closed" ? "rate_appeal_open" : action;
        GC.setStatus(caseStatus, t("follow.done." + done));
        view.querySelector("h2").focus();
      } finally {
        button.disabled = GC.waiting(form);
      }
    });
  });

  // Withdrawing the consent to publication: final, so only once the box confirming it is ticked.
  const consentForm = view.querySelector("[data-consent-form]");
  const consentKey = GC.attempts();
  consentForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const errors = consentForm.elements.namedItem("confirm").checked
      ? [] : [{ field: "confirm", type: "consent_withdrawal_unconfirmed" }];
    if (!GC.passes(consentForm, errors)) {
      return;
    }
    const button = consentForm.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const answer = await api("POST", "/v1/complaints/" + encodeURIComponent(number)
        + "/publication-consent/withdrawal", Object.assign({ idempotencyKey: consentKey({ number }) }, access()));
      if (!answer.ok) {
        GC.showProblem(consentForm, answer.problem);
        return;
      }
      consentForm.reset();
      await load(false);
      GC.setStatus(caseStatus, t("follow.done.consent_withdrawn"));
      view.querySelector("h2").focus();
    } finally {
      button.disabled = GC.waiting(consentForm);
    }
  });

  // A copy of everything the complaint holds about the complainant, as the API answers it, saved from the browser.
  view.querySelector("[data-action='my-data']").addEventListener("click", async () => {
    const answer = await api("GET", "/v1/complaints/" + encodeURIComponent(number) + "/data", access());
    if (!answer.ok) {
      GC.setStatus(caseStatus, GC.problemText(answer.problem));
      return;
    }
    const link = el("a", {
      href: URL.createObjectURL(new Blob([JSON.stringify(answer.body, null, 2)], { type: "application/json" })),
      download: number + ".json",
    });
    document.body.append(link);
    link.click();
    link.remove();
  });

  // Asking for the complaint's personal data to be erased (after the hold): final, so only with the box ticked.
  const erasureForm = view.querySelector("[data-erasure-form]");
  erasureForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const errors = erasureForm.elements.namedItem("confirm_erasure").checked
      ? [] : [{ field: "confirm_erasure", type: "erasure_unconfirmed" }];
    if (!GC.passes(erasureForm, errors)) {
      return;
    }
    const button = erasureForm.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const answer = await api("POST", "/v1/complaints/" + encodeURIComponent(number) + "/erasure", access());
      if (!answer.ok) {
        const reason = answer.problem.reason;
        GC.showErrors(erasureForm, [{ field: "", text: answer.problem.code === "erasure_refused"
          ? t("problem.erasure_refused") + " " + tOr("erasure.reason." + reason, reason) : GC.problemText(answer.problem) }]);
        return;
      }
      erasureForm.reset();
      GC.setStatus(erasureForm.querySelector(".form-status"),
        t("data.erasure_asked", { at: GC.formatDateTime(answer.body.erasure_due_at) }));
    } finally {
      button.disabled = GC.waiting(erasureForm);
    }
  });

  view.querySelector("[data-action='refresh']").addEventListener("click", async () => {
    const answer = await load(true);
    if (!answer.ok) {
      GC.setStatus(caseStatus, GC.problemText(answer.problem));
    }
  });
  view.querySelector("[data-action='forget']").addEventListener("click", () => {
    session.forget(number);
    window.location.assign("/follow");
  });

  // A number in the address and a code kept in this tab (or a signed-in account) open the complaint at once.
  const wanted = new URLSearchParams(window.location.search).get("number");
  if (wanted) {
    lookup.elements.namedItem("number").value = wanted;
    const code = session.accessCode(wanted);
    if (code || session.signedIn()) {
      open(wanted, code).then((answer) => {
        if (!answer.ok) {
          failed(answer);
        }
      });
    }
  }
})();
