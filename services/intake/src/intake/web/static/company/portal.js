/* The company portal (企业端): sign-in (with the authenticator's code where the company requires one), accepting
   an invitation, the inbox of complaints forwarded to the company, and an administrator's colleagues. Every action
   is a call of the company API, signed in by the session cookie (window.GC, core.js); what the role does not allow
   the API refuses, and the page only leaves out what would be refused. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, tOr, el, api, session } = GC;
  const pageId = document.body.dataset.page;
  const query = new URLSearchParams(window.location.search);
  const PAGE_SIZE = 20;

  function toSignIn() {
    window.location.replace("/company/login?" + new URLSearchParams({ next: window.location.pathname }));
  }

  function roleLabel(role) {
    return tOr("portal.role." + role, role);
  }

  /* The staff member signed in, or null after sending them to the sign-in page (no session, or a session that is
     not a company's: a complainant signed in on the public site). */
  async function whoAmI() {
    if (!session.signedIn()) {
      toSignIn();
      return null;
    }
    const answer = await api("GET", "/v1/company/me");
    if (!answer.ok) {
      toSignIn();
      return null;
    }
    const me = answer.body;
    document.querySelectorAll("[data-who]").forEach((node) => {
      node.textContent = t("portal.who", { name: me.name, role: roleLabel(me.role) });
    });
    if (me.role !== "administrator") {
      document.querySelectorAll("[data-admin-only]").forEach((node) => node.remove());
    }
    return me;
  }

  /* Keep the token just issued in the session cookie and go on. */
  async function startSession(form, issued, next) {
    const started = await session.signIn(issued);
    if (!started.ok) {
      GC.showProblem(form, started.problem);
      return;
    }
    window.location.assign(GC.safeNext(next, "/company/"));
  }

  /* Each cell names its column (data-label), which a phone shows beside it when the rows are stacked. */
  function labelCells(table) {
    const headers = Array.from(table.querySelectorAll("thead th"), (th) => th.textContent.trim());
    table.querySelectorAll("tbody tr").forEach((tr) => {
      Array.from(tr.children).forEach((cell, index) => cell.setAttribute("data-label", headers[index] || ""));
    });
  }

  // --- signing in ------------------------------------------------------------------------------------

  function setUpSignIn(form) {
    const totpField = form.querySelector("[data-totp-field]");
    const enrolment = form.querySelector("[data-enrolment]");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const errors = GC.checkLengths(form);
      const email = form.elements.namedItem("email").value.trim();
      const emailError = GC.emailError(email);
      if (emailError && !errors.some((error) => error.field === "email")) {
        errors.unshift({ field: "email", type: emailError.type });
      }
      if (!GC.passes(form, errors)) {
        return;
      }
      const body = { email, password: form.elements.namedItem("password").value };
      const code = form.elements.namedItem("totp").value.trim();
      if (!totpField.hidden && code) {
        body.totp = code;
      }
      const answer = await api("POST", "/v1/company/auth/token", { json: body });
      if (answer.ok) {
        await startSession(form, answer.body, query.get("next"));
        return;
      }
      const problem = answer.problem;
      if (problem.code === "totp_enrolment_required") {
        enrolment.querySelector("[data-totp-secret]").textContent = problem.totp_secret;
        enrolment.querySelector("[data-totp-uri]").textContent = problem.otpauth_uri;
        enrolment.hidden = false;
        totpField.hidden = false;
        if (body.totp) {
          GC.showErrors(form, [{ field: "totp", text: t("portal.totp.wrong") }]);
        } else {
          GC.clearErrors(form);
          form.elements.namedItem("totp").focus();
        }
        return;
      }
      if (problem.code === "totp_required") {
        totpField.hidden = false;
        if (body.totp) {
          GC.showErrors(form, [{ field: "totp", text: t("portal.totp.wrong") }]);
        } else {
          GC.clearErrors(form);
          form.elements.namedItem("totp").focus();
        }
        return;
      }
      GC.showProblem(form, problem);
    });
  }

  // --- an invitation ---------------------------------------------------------------------------------

  async function setUpInvitation() {
    const status = document.querySelector("[data-invitation-status]");
    const box = document.querySelector("[data-invitation]");
    // The token rides in the fragment (never sent to a server); once read it leaves the address bar and history.
    const token = window.location.hash.slice(1);
    if (token) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    if (!token) {
      GC.setStatus(status, t("portal.invitation.invalid"));
      return;
    }
    const answer = await api("POST", "/v1/company/invitation", { json: { token } });
    if (!answer.ok) {
      GC.setStatus(status, answer.status === 404 ? t("portal.invitation.invalid") : GC.problemText(answer.problem));
      return;
    }
    const invitation = answer.body;
    box.querySelector("[data-invitation-company]").textContent = invitation.company_name;
    box.querySelector("[data-invitation-email]").textContent = invitation.email;
    box.querySelector("[data-invitation-role]").textContent = roleLabel(invitation.role);
    box.querySelector("[data-invitation-expires]").textContent = GC.formatDateTime(invitation.expires_at);
    GC.setStatus(status, "");
    status.hidden = true;
    box.hidden = false;
    const form = document.getElementById("portal-accept");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!GC.passes(form, GC.checkLengths(form))) {
        return;
      }
      const accepted = await api("POST", "/v1/company/invitation/accept", {
        json: { token, name: form.elements.namedItem("name").value.trim(), password: form.elements.namedItem("password").value },
      });
      if (!accepted.ok) {
        GC.showProblem(form, accepted.problem);
        return;
      }
      await startSession(form, accepted.body, "/company/");
    });
  }

  // --- the inbox ------------------------------------------------------------------------------------

  const FILTERS = ["number", "status", "category", "due_within", "overdue", "appealed", "collective"];

  function dueCell(item) {
    if (!item.response_due) {
      return el("td", { text: "—" });
    }
    return el(
      "td",
      {},
      GC.formatDate(item.response_due),
      item.overdue ? [" ", el("span", { class: "overdue", text: t("portal.inbox.overdue") })] : null,
    );
  }

  /* The SLA countdown: working days left after today, due today, or how many it is late by. */
  function leftCell(item) {
    const left = item.working_days_left;
    if (left === null || left === undefined) {
      return el("td", { text: "—" });
    }
    if (left === 0) {
      return el("td", { class: "overdue", text: t("portal.inbox.due_today") });
    }
    return left > 0
      ? el("td", { text: t("portal.inbox.days_left", { count: left }) })
      : el("td", { class: "overdue", text: t("portal.inbox.days_late", { count: -left }) });
  }

  function tags(item) {
    return [
      item.appealed ? el("span", { class: "pending", text: t("portal.inbox.appealed") }) : null,
      item.collective ? el("span", { class: "pending", text: t("portal.inbox.collective") }) : null,
    ].filter(Boolean);
  }

  /* The filter form as query parameters (empty fields and unticked boxes left out). */
  function filterParams(form) {
    const params = new URLSearchParams();
    FILTERS.forEach((name) => {
      const control = form.elements.namedItem(name);
      if (control.type === "checkbox") {
        if (control.checked) {
          params.set(name, "true");
        }
      } else if (control.value.trim()) {
        params.set(name, control.value.trim());
      }
    });
    return params;
  }

  function fillFilters(form) {
    FILTERS.forEach((name) => {
      const control = form.elements.namedItem(name);
      const value = query.get(name);
      if (control.type === "checkbox") {
        control.checked = value === "true";
      } else if (value !== null) {
        control.value = value;
      }
    });
  }

  /* The company's own figures over the last 12 months: every complaint it was sent, published or not (exact, as a
     regulator sees them), beside a link to its public scorecard, which counts published complaints only. */
  async function showFigures(me) {
    const section = document.querySelector("[data-figures]");
    section.querySelector("[data-scorecard] a").setAttribute(
      "href", "/public/companies/" + encodeURIComponent(me.company_id)
    );
    const answer = await api("GET", "/v1/company/scorecard");
    if (!answer.ok) {
      return;
    }
    const lang = GC.config.lang;
    const percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });
    const decimal = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    const shown = {
      volume: (value) => new Intl.NumberFormat(lang).format(value),
      timely_rate: (value) => percent.format(value),
      relief_rate: (value) => percent.format(value),
      average_rating: (value) => t("portal.figures.rating", { value: decimal.format(value) }),
      appeal_rate: (value) => percent.format(value),
    };
    Object.entries(shown).forEach(([name, format]) => {
      const value = answer.body[name];
      section.querySelector('[data-figure="' + name + '"]').textContent =
        value === null || value === undefined ? t("portal.figures.none") : format(value);
    });
    section.hidden = false;
  }

  async function setUpInbox() {
    const me = await whoAmI();
    if (!me) {
      return;
    }
    document.querySelector("[data-welcome]").textContent = t("portal.inbox.welcome", { name: me.name });
    showFigures(me);
    const status = document.querySelector("[data-inbox-status]");
    const table = document.querySelector("[data-inbox]");
    const more = document.querySelector("[data-more]");
    const form = document.getElementById("inbox-filters");
    const exportLink = form.querySelector("[data-export]");
    let cursor = null;
    let filters = new URLSearchParams();

    async function load() {
      const params = new URLSearchParams(filters);
      params.set("limit", String(PAGE_SIZE));
      if (cursor) {
        params.set("cursor", cursor);
      }
      const answer = await api("GET", "/v1/company/complaints?" + params);
      if (!answer.ok) {
        GC.showProblem(form, answer.problem, { greater_than_equal: "due_within", less_than_equal: "due_within" });
        GC.setStatus(status, "");
        return;
      }
      const rows = answer.body.items.map((item) =>
        el(
          "tr",
          {},
          el("td", { class: "code" }, el("a", { href: "/company/complaints/" + encodeURIComponent(item.number), text: item.number })),
          el("td", {}, item.title, tags(item).length ? [" ", tags(item)] : null),
          el("td", { text: tOr("status." + item.status, item.status) }),
          dueCell(item),
          leftCell(item),
        ),
      );
      table.querySelector("tbody").append(...rows);
      labelCells(table);
      cursor = answer.body.next_cursor;
      more.hidden = !cursor;
      const count = table.querySelectorAll("tbody tr").length;
      table.hidden = count === 0;
      GC.setStatus(status, count ? t("portal.inbox.count", { count }) : t("portal.inbox.empty"));
    }

    /* Apply the form: the list from its first page, the export of the same filter, and the address says it. */
    async function apply() {
      filters = filterParams(form);
      cursor = null;
      table.querySelector("tbody").replaceChildren();
      exportLink.setAttribute("href", "/v1/company/complaints.csv" + (filters.toString() ? "?" + filters : ""));
      window.history.replaceState(null, "", window.location.pathname + (filters.toString() ? "?" + filters : ""));
      GC.clearErrors(form);
      await load();
    }

    fillFilters(form);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const due = form.elements.namedItem("due_within");
      const value = due.value.trim();
      if (value && !(Number.isInteger(Number(value)) && Number(value) >= Number(due.min) && Number(value) <= Number(due.max))) {
        GC.showErrors(form, [{ field: "due_within", text: t("portal.inbox.due_within_range", { max: due.max }) }]);
        return;
      }
      await apply();
    });
    more.addEventListener("click", load);
    await apply();
  }

  // --- one complaint ---------------------------------------------------------------------------------

  async function setUpComplaint() {
    const me = await whoAmI();
    if (!me) {
      return;
    }
    const box = document.querySelector("[data-case]");
    const number = box.dataset.number;
    const base = "/v1/company/complaints/" + encodeURIComponent(number);
    const status = document.querySelector("[data-case-status]");
    const mayAct = me.role === "administrator" || me.role === "handler";
    const askKey = GC.attempts();
    const answerKey = GC.attempts();
    const noteKey = GC.attempts();

    function fill(selector, text) {
      box.querySelector(selector).textContent = text;
    }

    async function evidenceItem(file) {
      if (file.held) {
        return el("li", {}, file.filename, " ", el("span", { class: "pending", text: t("portal.case.evidence_held") }));
      }
      const button = el("button", {
        type: "button", class: "button", text: t("portal.case.evidence_open"),
        "aria-label": t("portal.case.evidence_open") + " " + file.filename,
      });
      // A short-lived link, asked for when it is used: the browser shows an image or a PDF itself, in a new tab.
      button.addEventListener("click", async () => {
        const answer = await api("GET", base.replace("/v1/company/", "/v1/") + "/evidence/" + encodeURIComponent(file.evidence_id) + "/link");
        if (answer.ok) {
          window.open(answer.body.url, "_blank", "noopener");
        } else {
          GC.setStatus(status, GC.problemText(answer.problem));
        }
      });
      return el("li", {}, file.filename, " (", GC.formatBytes(file.size), ") ", button);
    }

    function exchanges(item) {
      const entries = [];
      item.info_requests.forEach((entry) => entries.push([entry.at, t("portal.case.asked"), entry.question]));
      item.supplements.forEach((entry) => entries.push([entry.at, t("portal.case.supplemented"), entry.text || ""]));
      if (item.response) {
        entries.push([item.response.at, t("portal.case.answered", { type: tOr("response_type." + item.response.type, item.response.type) }), item.response.text]);
      }
      if (item.appeal) {
        entries.push([item.appeal.at, t("portal.case.appealed"), item.appeal.reason || ""]);
      }
      entries.sort((a, b) => (a[0] < b[0] ? -1 : 1));
      return entries.length
        ? entries.map(([at, what, text]) => el("li", {}, el("strong", { text: what }), " ", el("span", { class: "meta", text: GC.formatDateTime(at) }), el("p", { text })))
        : [el("li", { text: t("portal.case.no_exchanges") })];
    }

    async function loadCase() {
      const answer = await api("GET", base);
      if (!answer.ok) {
        GC.setStatus(status, answer.status === 404 ? t("portal.case.not_found") : GC.problemText(answer.problem));
        return null;
      }
      const item = answer.body;
      fill("[data-case-title]", item.title);
      fill("[data-case-status-text]", tOr("status." + item.status, item.status) + (item.overdue ? " · " + t("portal.inbox.overdue") : ""));
      const labels = JSON.parse(document.getElementById("portal-categories").textContent);
      fill("[data-case-category]", labels[item.category] || item.category);
      fill("[data-case-due]", item.response_due ? GC.formatDate(item.response_due) : "—");
      fill("[data-case-occurred]", GC.formatDate(item.occurred_on));
      fill("[data-case-complainant]", [item.complainant.name, item.complainant.phone, item.complainant.email].filter(Boolean).join(" · "));
      fill("[data-case-description]", item.description);
      fill("[data-case-desired]", item.desired_outcome);
      const files = await Promise.all(item.evidence.map(evidenceItem));
      box.querySelector("[data-case-evidence]").replaceChildren(...(files.length ? files : [el("li", { text: t("portal.case.no_evidence") })]));
      box.querySelector("[data-case-exchanges]").replaceChildren(...exchanges(item));
      const rating = box.querySelector("[data-case-rating]");
      rating.hidden = !item.rating;
      if (item.rating) {
        fill("[data-case-rating-text]", t("portal.case.rating_text", { rating: item.rating.rating }) + (item.rating.comment ? " " + item.rating.comment : ""));
      }
      box.querySelector("[data-case-timeline]").replaceChildren(...item.timeline.map((entry) =>
        el("li", {}, el("span", { class: "meta", text: GC.formatDateTime(entry.at) }), " ",
          tOr("timeline." + entry.action, entry.action), " · ", tOr("portal.side." + entry.by, entry.by))));
      box.querySelector("[data-act=request_info]").hidden = !(mayAct && item.status === "forwarded");
      box.querySelector("[data-act=respond]").hidden = !(mayAct && item.status === "forwarded");
      box.hidden = false;
      return item;
    }

    async function loadHandling() {
      const answer = await api("GET", base + "/handling");
      if (!answer.ok) {
        return;
      }
      const handling = answer.body;
      fill("[data-case-assignee]", handling.assignee
        ? t("portal.case.assigned_to", { name: handling.assignee.name || handling.assignee.staff_id })
        : t("portal.case.unassigned"));
      box.querySelector("[data-act=assign]").hidden = !mayAct || (handling.assignee && handling.assignee.staff_id === me.staff_id);
      box.querySelector("[data-act=note]").hidden = !mayAct;
      box.querySelector("[data-case-notes]").replaceChildren(...(handling.notes.length
        ? handling.notes.map((note) => el("li", {}, el("span", { class: "meta", text: GC.formatDateTime(note.at) + " · " + (note.by ? note.by.name : t("portal.case.by_api")) }), el("p", { text: note.text })))
        : [el("li", { text: t("portal.case.no_notes") })]));
    }

    /* A form posting its fields once (a retry keeps its Idempotency-Key), then the case shown anew. */
    function action(form, path, keyFor, done) {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        if (!GC.passes(form, GC.checkLengths(form))) {
          return;
        }
        const body = {};
        Array.from(form.elements).filter((control) => control.name).forEach((control) => {
          body[control.name] = control.value.trim();
        });
        const answer = await api("POST", path, { json: body, idempotencyKey: keyFor(body) });
        if (!answer.ok) {
          GC.showProblem(form, answer.problem);
          return;
        }
        form.reset();
        GC.setStatus(status, t(done));
        status.hidden = false;
        await loadCase();
        await loadHandling();
      });
    }

    action(document.getElementById("case-ask"), base + "/info-request", askKey, "portal.case.asked_done");
    action(document.getElementById("case-answer"), base + "/response", answerKey, "portal.case.answered_done");
    action(document.getElementById("case-note"), base + "/notes", noteKey, "portal.case.note_done");
    box.querySelector("[data-assign-me]").addEventListener("click", async () => {
      const answer = await api("PUT", base + "/assignee", { json: { staff_id: me.staff_id } });
      GC.setStatus(status, answer.ok ? t("portal.case.assigned_done") : GC.problemText(answer.problem));
      await loadHandling();
    });

    if (await loadCase()) {
      GC.setStatus(status, "");
      await loadHandling();
    }
  }

  // --- integration: API keys ------------------------------------------------------------------------

  async function setUpIntegration() {
    const me = await whoAmI();
    if (!me) {
      return;
    }
    const status = document.querySelector("[data-keys-status]");
    if (me.role !== "administrator") {
      GC.setStatus(status, t("portal.keys.administrators_only"));
      return;
    }
    const box = document.querySelector("[data-keys]");
    const table = box.querySelector("[data-keys-table]");

    function row(key) {
      const revoke = el("button", {
        type: "button", class: "button danger", text: t("portal.keys.revoke"), "aria-label": t("portal.keys.revoke") + " " + key.label,
      });
      revoke.addEventListener("click", async () => {
        const answer = await api("DELETE", "/v1/company/api-keys/" + encodeURIComponent(key.key_id));
        GC.setStatus(status, answer.ok ? t("portal.keys.revoked_done", { label: key.label }) : GC.problemText(answer.problem));
        await load();
      });
      return el(
        "tr",
        {},
        el("td", { text: key.label }),
        el("td", { text: GC.formatDateTime(key.created_at) }),
        el("td", { text: key.last_used_at ? GC.formatDateTime(key.last_used_at) : t("portal.keys.never") }),
        el("td", { text: key.revoked_at ? t("portal.keys.revoked") : t("portal.keys.active") }),
        el("td", {}, key.revoked_at ? "—" : revoke),
      );
    }

    async function load() {
      const answer = await api("GET", "/v1/company/api-keys");
      if (!answer.ok) {
        GC.setStatus(status, GC.problemText(answer.problem));
        return;
      }
      table.querySelector("tbody").replaceChildren(...answer.body.items.map(row));
      labelCells(table);
      box.hidden = false;
      if (status.textContent === t("portal.loading")) {
        GC.setStatus(status, "");
      }
    }

    const form = document.getElementById("key-issue");
    const shown = box.querySelector("[data-new-key]");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!GC.passes(form, GC.checkLengths(form))) {
        return;
      }
      const answer = await api("POST", "/v1/company/api-keys", { json: { label: form.elements.namedItem("label").value.trim() } });
      if (!answer.ok) {
        GC.showProblem(form, answer.problem);
        return;
      }
      form.reset();
      shown.querySelector("[data-new-key-value]").textContent = answer.body.api_key;
      shown.hidden = false;
      shown.focus();
      await load();
    });
    await load();
    await setUpWebhook(status);
  }

  /* The webhook endpoint and its delivery log: register (a new secret shown once), rotate (the previous secret
     stays valid a day, webhooks carry both signatures meanwhile), disable or enable, send a test event, redeliver. */
  async function setUpWebhook(status) {
    const box = document.querySelector("[data-webhook]");
    const form = document.getElementById("webhook-set");
    const rotate = box.querySelector("[data-webhook-rotate]");
    const toggle = box.querySelector("[data-webhook-toggle]");
    const test = box.querySelector("[data-webhook-test]");
    const testResult = test.querySelector("[data-webhook-test-result]");
    let endpoint = null;

    function showSecret(secret) {
      const notice = box.querySelector("[data-new-secret]");
      notice.querySelector("[data-new-secret-value]").textContent = secret;
      notice.hidden = false;
      notice.focus();
    }

    function show(found) {
      endpoint = found;
      box.querySelector("[data-webhook-current]").hidden = !found;
      box.querySelector("[data-webhook-actions]").hidden = !found;
      test.hidden = !found || found.status !== "enabled";
      if (!found) {
        return;
      }
      box.querySelector("[data-webhook-url]").textContent = found.url;
      box.querySelector("[data-webhook-state]").textContent = found.status === "enabled" ? t("portal.keys.active") : t("portal.staff.disabled");
      box.querySelector("[data-webhook-secret]").textContent = found.secret;
      box.querySelector("[data-webhook-previous]").textContent = found.previous_expires_at
        ? t("portal.webhook.previous_until", { until: GC.formatDateTime(found.previous_expires_at) }) : "—";
      toggle.textContent = found.status === "enabled" ? t("portal.staff.disable") : t("portal.staff.enable");
      form.elements.namedItem("url").value = found.url;
    }

    async function loadDeliveries() {
      const answer = await api("GET", "/v1/company/deliveries?limit=20");
      if (!answer.ok) {
        return;
      }
      const table = box.querySelector("[data-deliveries]");
      table.querySelector("tbody").replaceChildren(...answer.body.items.map((delivery) => {
        const again = el("button", { type: "button", class: "button", text: t("portal.deliveries.redeliver"), "aria-label": t("portal.deliveries.redeliver") + " " + delivery.webhook_id });
        again.addEventListener("click", async () => {
          const done = await api("POST", "/v1/company/deliveries/" + encodeURIComponent(delivery.webhook_id) + "/redeliver");
          GC.setStatus(status, done.ok ? t("portal.deliveries.redelivered", { id: delivery.webhook_id }) : GC.problemText(done.problem));
          await loadDeliveries();
        });
        return el("tr", { "data-webhook-id": delivery.webhook_id },
          el("td", { class: "code", text: delivery.event_type }),
          el("td", { class: "code", text: delivery.number || "—" }),
          el("td", { text: tOr("portal.deliveries.status." + delivery.status, delivery.status) }),
          el("td", { text: String(delivery.attempt_count) }),
          el("td", {}, again));
      }));
      labelCells(table);
    }

    const current = await api("GET", "/v1/company/webhook-endpoint");
    show(current.ok ? current.body : null);
    box.hidden = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!GC.passes(form, GC.checkLengths(form))) {
        return;
      }
      const answer = await api("PUT", "/v1/company/webhook-endpoint", { json: { url: form.elements.namedItem("url").value.trim() } });
      if (!answer.ok) {
        GC.showProblem(form, answer.problem);
        return;
      }
      show(answer.body);
      if (!answer.body.secret_masked) {
        showSecret(answer.body.secret);
      }
      GC.setStatus(status, t("portal.webhook.saved"));
    });
    rotate.addEventListener("click", async () => {
      const answer = await api("POST", "/v1/company/webhook-endpoint/rotate-secret", { json: { overlap_s: 86400 } });
      if (!answer.ok) {
        GC.setStatus(status, GC.problemText(answer.problem));
        return;
      }
      show(answer.body);
      showSecret(answer.body.secret);
    });
    toggle.addEventListener("click", async () => {
      const enabled = endpoint && endpoint.status === "enabled";
      const answer = enabled
        ? await api("POST", "/v1/company/webhook-endpoint/disable", { json: { reason: t("portal.webhook.disabled_reason") } })
        : await api("POST", "/v1/company/webhook-endpoint/enable");
      if (answer.ok) {
        show(answer.body);
      }
      GC.setStatus(status, answer.ok ? t("portal.webhook.saved") : GC.problemText(answer.problem));
    });
    /* A test event: sent at once, so its first attempt's outcome is usually known within seconds; the result
       line says it, and the delivery log shows it with its attempts. Each click is a new test (a new key). */
    test.querySelector("[data-webhook-test-send]").addEventListener("click", async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      try {
        const answer = await api("POST", "/v1/company/webhook-endpoint/test", { idempotencyKey: GC.attempts()({}) });
        if (!answer.ok) {
          GC.setStatus(testResult, GC.problemText(answer.problem));
          return;
        }
        const id = answer.body.webhook_id;
        GC.setStatus(testResult, t("portal.webhook.test_sent", { id }));
        await loadDeliveries();
        let delivery = answer.body;
        for (let tries = 0; tries < 10 && delivery.attempt_count === 0; tries += 1) {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          const read = await api("GET", "/v1/company/deliveries/" + encodeURIComponent(id));
          if (read.ok) {
            delivery = read.body;
          }
        }
        const last = delivery.attempts[delivery.attempts.length - 1];
        const error = delivery.last_error || "";
        if (delivery.status === "delivered") {
          GC.setStatus(testResult, t("portal.webhook.test_delivered", { id, status: last ? String(last.status_code) : "" }));
        } else if (delivery.status === "failed") {
          GC.setStatus(testResult, t("portal.webhook.test_failed", { id, error }));
        } else if (delivery.attempt_count > 0) {
          GC.setStatus(testResult, t("portal.webhook.test_not_yet", { id, error }));
        } else {
          GC.setStatus(testResult, t("portal.webhook.test_queued", { id }));
        }
        await loadDeliveries();
      } finally {
        button.disabled = false;
      }
    });
    await loadDeliveries();
  }

  // --- the directory profile -------------------------------------------------------------------------

  async function setUpProfile() {
    const me = await whoAmI();
    if (!me) {
      return;
    }
    const status = document.querySelector("[data-profile-status]");
    const box = document.querySelector("[data-profile]");
    const form = document.getElementById("profile-change");
    const keyFor = GC.attempts();
    const lines = (value) => value.split("\n").map((line) => line.trim()).filter(Boolean);

    async function load() {
      const answer = await api("GET", "/v1/company/profile");
      if (!answer.ok) {
        GC.setStatus(status, GC.problemText(answer.problem));
        return;
      }
      const company = answer.body.company;
      box.querySelector("[data-profile-name]").textContent = company.name;
      box.querySelector("[data-profile-aliases]").textContent = company.aliases.join("、") || "—";
      box.querySelector("[data-profile-apps]").textContent = company.apps.join("、") || "—";
      box.querySelector("[data-profile-domains]").textContent = company.domains.join("、") || "—";
      box.querySelector("[data-profile-users]").textContent = company.user_base_millions === null ? "—" : String(company.user_base_millions);
      if (form) {
        ["aliases", "apps", "domains"].forEach((name) => { form.elements.namedItem(name).value = company[name].join("\n"); });
        form.elements.namedItem("user_base_millions").value = company.user_base_millions === null ? "" : company.user_base_millions;
      }
      box.querySelector("[data-profile-history]").replaceChildren(...(answer.body.changes.length
        ? answer.body.changes.map((change) => el("li", {
          text: t("portal.profile.change", { at: GC.formatDateTime(change.requested_at), status: tOr("portal.profile.status." + change.status, change.status) })
            + (change.note ? " " + change.note : ""),
        }))
        : [el("li", { text: t("portal.profile.no_changes") })]));
      box.hidden = false;
      if (status.textContent === t("portal.loading")) {
        GC.setStatus(status, "");
      }
    }

    if (form) {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const users = form.elements.namedItem("user_base_millions").value.trim();
        const body = {
          aliases: lines(form.elements.namedItem("aliases").value),
          apps: lines(form.elements.namedItem("apps").value),
          domains: lines(form.elements.namedItem("domains").value),
          user_base_millions: users ? Number(users) : null,
        };
        const answer = await api("POST", "/v1/company/profile-changes", { json: body, idempotencyKey: keyFor(body) });
        if (!answer.ok) {
          GC.showProblem(form, answer.problem);
          return;
        }
        GC.clearErrors(form);
        GC.setStatus(status, t("portal.profile.sent"));
        await load();
      });
    }
    await load();
  }

  // --- colleagues ------------------------------------------------------------------------------------

  async function setUpStaff() {
    const me = await whoAmI();
    if (!me) {
      return;
    }
    const status = document.querySelector("[data-staff-status]");
    if (me.role !== "administrator") {
      GC.setStatus(status, t("portal.staff.administrators_only"));
      return;
    }
    const box = document.querySelector("[data-staff]");
    const tbody = box.querySelector("[data-staff-table] tbody");
    const security = document.getElementById("portal-security");

    function action(label, path, member) {
      const button = el("button", {
        type: "button", class: "button", text: label, "aria-label": label + " " + member.name,
      });
      button.addEventListener("click", async () => {
        button.disabled = true;
        const answer = await api("POST", path);
        button.disabled = false;
        GC.setStatus(status, answer.ok ? t("portal.staff.changed", { name: member.name }) : GC.problemText(answer.problem));
        if (answer.ok) {
          await load();
        }
      });
      return button;
    }

    function row(member) {
      const base = "/v1/company/staff/" + encodeURIComponent(member.staff_id);
      const yourself = member.staff_id === me.staff_id;
      const actions = yourself ? [t("portal.staff.you")] : [
        member.disabled
          ? action(t("portal.staff.enable"), base + "/enable", member)
          : action(t("portal.staff.disable"), base + "/disable", member),
        action(t("portal.staff.sign_out"), base + "/sign-out", member),
      ];
      return el(
        "tr",
        {},
        el("td", { text: member.name }),
        el("td", { text: member.email }),
        el("td", { text: roleLabel(member.role) }),
        el("td", { text: member.disabled ? t("portal.staff.disabled") : t("portal.staff.enabled") }),
        el("td", {}, actions),
      );
    }

    async function load() {
      const answer = await api("GET", "/v1/company/staff");
      if (!answer.ok) {
        GC.setStatus(status, GC.problemText(answer.problem));
        return;
      }
      tbody.replaceChildren(...answer.body.staff.map(row));
      labelCells(tbody.closest("table"));
      box.querySelector("[data-invitations]").replaceChildren(
        ...(answer.body.invitations.length
          ? answer.body.invitations.map((item) =>
            el("li", { text: t("portal.staff.pending", {
              email: item.email, role: roleLabel(item.role), until: GC.formatDateTime(item.expires_at),
            }) }))
          : [el("li", { text: t("portal.staff.no_pending") })]),
      );
      security.elements.namedItem("totp_required").checked = answer.body.totp_required;
      box.hidden = false;
      if (status.textContent === t("portal.loading")) {
        GC.setStatus(status, "");
      }
    }

    const invite = document.getElementById("portal-invite");
    const keyFor = GC.attempts();
    invite.addEventListener("submit", async (event) => {
      event.preventDefault();
      const errors = GC.checkLengths(invite);
      const email = invite.elements.namedItem("email").value.trim();
      const emailError = GC.emailError(email);
      if (emailError && !errors.some((error) => error.field === "email")) {
        errors.unshift({ field: "email", type: emailError.type });
      }
      if (!GC.passes(invite, errors)) {
        return;
      }
      const body = { email, role: invite.elements.namedItem("role").value };
      const answer = await api("POST", "/v1/company/staff/invitations", { json: body, idempotencyKey: keyFor(body) });
      if (!answer.ok) {
        GC.showProblem(invite, answer.problem);
        return;
      }
      GC.setStatus(invite.querySelector(".form-status"), t("portal.staff.invited", { email }));
      invite.reset();
      await load();
    });

    security.addEventListener("submit", async (event) => {
      event.preventDefault();
      const required = security.elements.namedItem("totp_required").checked;
      const answer = await api("PUT", "/v1/company/security", { json: { totp_required: required } });
      if (!answer.ok) {
        GC.showProblem(security, answer.problem);
        return;
      }
      GC.setStatus(security.querySelector(".form-status"), required ? t("portal.totp.now_required") : t("portal.totp.not_required"));
      if (required && !me.totp) {
        // Requiring it ended this session too (no second factor yet): sign in again and set it up.
        toSignIn();
      }
    });

    await load();
  }

  /* Signing out ends the session on the server (every tab) and leads back to the portal's sign-in. */
  document.querySelectorAll("[data-action='portal-sign-out']").forEach((button) => {
    button.addEventListener("click", async () => {
      await session.signOut();
      window.location.assign("/company/login");
    });
  });

  /* The signature-verification snippets: each copied whole with its button (or selected, where the browser gives
     no clipboard, so the system's copy takes it). */
  function setUpSnippets() {
    document.querySelectorAll("[data-copy-snippet]").forEach((button) => {
      button.addEventListener("click", async () => {
        const code = button.parentElement.querySelector("code");
        try {
          await navigator.clipboard.writeText(code.textContent);
          button.textContent = t("portal.signatures.copied");
        } catch (error) {
          window.getSelection().selectAllChildren(code);
        }
      });
    });
  }

  if (pageId === "company-login") {
    setUpSignIn(document.getElementById("portal-login"));
  } else if (pageId === "company-invitation") {
    setUpInvitation();
  } else if (pageId === "company-inbox" && document.querySelector("[data-case]")) {
    setUpComplaint();
  } else if (pageId === "company-inbox") {
    setUpInbox();
  } else if (pageId === "company-profile") {
    setUpProfile();
  } else if (pageId === "company-integration") {
    setUpIntegration();
    setUpSnippets();
  } else if (pageId === "company-staff") {
    setUpStaff();
  }
})();
