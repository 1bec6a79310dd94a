/* The console's operations pages: the audit log (admins: search by operator, complaint and time, CSV), dead
   letters per service (inspect, replay, replay all, discard with a note), webhooks (failing endpoints, an
   endpoint with its delivery log, redeliver, disable and enable; open alerts to acknowledge) and staff
   accounts (admins: create, roles, disable, reset the second factor). */
(function () {
  "use strict";
  const GC = window.GC;
  const C = GC.Console;
  const { t, tOr, el, api } = GC;
  const page = document.body.dataset.page;
  const query = new URLSearchParams(window.location.search);

  function button(text, handler, kind) {
    const node = el("button", { type: "button", class: "button" + (kind ? " " + kind : ""), text });
    node.addEventListener("click", handler);
    return node;
  }

  function fail(answer) {
    GC.setStatus(C.status, C.problemText(answer.problem));
  }

  // --- the audit log -----------------------------------------------------------------------------------

  async function audit() {
    if (!(await C.ready("admin"))) {
      return;
    }
    const form = document.getElementById("audit-form");
    const holder = document.querySelector("[data-audit]");
    const body = holder.querySelector("tbody");
    const more = document.querySelector("[data-more]");
    const csv = form.querySelector("[data-csv]");
    let params = new URLSearchParams();
    let cursor = null;

    /* The search as the API takes it: a day's start and the next day's start in China's time. */
    function search() {
      const found = new URLSearchParams();
      const fields = C.formBody(form);
      ["operator", "complaint"].forEach((name) => fields[name] && found.set(name, fields[name]));
      if (fields.since) {
        found.set("since", fields.since + "T00:00:00+08:00");
      }
      if (fields.until) {
        const next = new Date(fields.until + "T00:00:00+08:00");
        next.setUTCDate(next.getUTCDate() + 1);
        found.set("until", next.toISOString());
      }
      return found;
    }

    async function load() {
      const asked = new URLSearchParams(params);
      if (cursor) {
        asked.set("cursor", cursor);
      }
      const answer = await api("GET", "/v1/ops/audit?" + asked);
      if (!answer.ok) {
        fail(answer);
        return;
      }
      answer.body.items.forEach((entry) => body.append(el("tr", { "data-entry": entry.action },
        el("td", { text: C.dateTime(entry.at) }),
        el("td", { text: entry.operator_login || entry.operator_id }),
        el("td", { text: tOr("ops.audit.action." + entry.action, entry.action) }),
        el("td", {}, entry.complaint ? el("a", { href: "/ops/complaints/" + encodeURIComponent(entry.complaint), text: entry.complaint }) : "–"),
        el("td", { text: [entry.field ? tOr("ops.identity." + entry.field, entry.field) : null, entry.target, entry.detail].filter(Boolean).join(" · ") || "–" }),
        el("td", { text: entry.reason || "–" }),
        el("td", { class: "code", text: entry.trace_id || "–" }))));
      cursor = answer.body.next_cursor;
      more.hidden = !cursor;
      holder.hidden = false;
      GC.setStatus(C.status, body.children.length ? "" : t("ops.audit.empty"));
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      params = search();
      cursor = null;
      body.replaceChildren();
      csv.href = "/v1/ops/audit?" + new URLSearchParams([...params, ["format", "csv"]]);
      load();
    });
    more.addEventListener("click", load);
    ["operator", "complaint"].forEach((name) => query.get(name) && (form.elements.namedItem(name).value = query.get(name)));
    params = search();
    csv.href = "/v1/ops/audit?" + new URLSearchParams([...params, ["format", "csv"]]);
    await load();
  }

  // --- dead letters ------------------------------------------------------------------------------------

  async function deadLetters() {
    if (!(await C.ready("operator"))) {
      return;
    }
    const form = document.getElementById("letters-form");
    const list = document.querySelector("[data-letters]");
    const service = form.elements.namedItem("service");
    if (query.get("service")) {
      service.value = query.get("service");
    }

    function letterCard(letter) {
      const event = letter.event || {};
      const details = el("pre", { class: "event", hidden: true });
      const noteForm = el("form", { class: "inline-form", hidden: true, novalidate: true },
        el("label", { for: "note-" + letter.id, text: t("ops.dead_letters.note") }),
        el("input", { id: "note-" + letter.id, name: "note", type: "text", required: true, "aria-required": "true", minlength: "2", maxlength: "1000" }),
        el("button", { type: "submit", class: "button danger", text: t("ops.dead_letters.discard_submit") }));
      noteForm.addEventListener("submit", async (submitted) => {
        submitted.preventDefault();
        const note = noteForm.elements.namedItem("note").value.trim();
        if (Array.from(note).length < 2) {
          GC.setStatus(C.status, t("ops.dead_letters.note_missing"));
          return;
        }
        const answer = await api("POST", "/v1/ops/dead-letters/" + encodeURIComponent(letter.id) + "/discard", { json: { note } });
        if (!answer.ok) {
          fail(answer);
          return;
        }
        GC.setStatus(C.status, t("ops.dead_letters.discarded"));
        await load();
      });
      return el("li", { class: "card", "data-letter": letter.id },
        el("h2", { class: "h3", text: (event.type || letter.type || "?") + (event.subject ? " · " + event.subject : "") }),
        el("p", {}, el("strong", { text: t("ops.dead_letters.reason") + " " }), letter.reason || "–"),
        el("p", { class: "meta", text: C.dateTime(letter.taken_at) + " · " + (letter.queue || "") }),
        el("p", { class: "actions" },
          button(t("ops.dead_letters.inspect"), async () => {
            const answer = await api("GET", "/v1/ops/dead-letters/" + encodeURIComponent(letter.id));
            if (answer.ok) {
              details.textContent = JSON.stringify(answer.body.event, null, 2);
              details.hidden = false;
            }
          }),
          button(t("ops.dead_letters.replay"), async () => {
            const answer = await api("POST", "/v1/ops/dead-letters/" + encodeURIComponent(letter.id) + "/replay");
            if (!answer.ok) {
              fail(answer);
              return;
            }
            GC.setStatus(C.status, t("ops.dead_letters.replayed_one"));
            await load();
          }, "primary"),
          button(t("ops.dead_letters.discard"), () => {
            noteForm.hidden = false;
            noteForm.elements.namedItem("note").focus();
          })),
        noteForm, details);
    }

    async function load() {
      const answer = await api("GET", "/v1/ops/dead-letters?" + new URLSearchParams({ service: service.value }));
      if (!answer.ok) {
        fail(answer);
        return;
      }
      list.replaceChildren(...answer.body.items.map(letterCard));
      if (!answer.body.items.length) {
        GC.setStatus(C.status, t("ops.dead_letters.empty", { service: t("ops.service." + service.value) }));
      }
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      GC.setStatus(C.status, "");
      window.history.replaceState(null, "", "/ops/dead-letters?" + new URLSearchParams({ service: service.value }));
      load();
    });
    form.querySelector("[data-replay-all]").addEventListener("click", async () => {
      const answer = await api("POST", "/v1/ops/dead-letters/replay-all?" + new URLSearchParams({ service: service.value }));
      if (!answer.ok) {
        fail(answer);
        return;
      }
      await load();
      GC.setStatus(C.status, t("ops.dead_letters.replayed", { count: answer.body.replayed }));
    });
    await load();
  }

  // --- webhooks and alerts -------------------------------------------------------------------------------

  async function webhooks() {
    if (!(await C.ready("operator"))) {
      return;
    }
    const form = document.getElementById("endpoint-form");
    const company = form.elements.namedItem("company_id");
    const holder = document.querySelector("[data-endpoint]");
    const disableForm = document.getElementById("disable-form");
    const enable = holder.querySelector("[data-enable]");

    async function showEndpoint() {
      const id = company.value.trim();
      if (!id) {
        return;
      }
      const base = "/v1/ops/companies/" + encodeURIComponent(id) + "/webhook-endpoint";
      const [endpoint, deliveries] = await Promise.all([
        api("GET", base),
        api("GET", "/v1/ops/deliveries?" + new URLSearchParams({ company_id: id, limit: "50" })),
      ]);
      if (!endpoint.ok) {
        holder.hidden = true;
        fail(endpoint);
        return;
      }
      const view = endpoint.body;
      holder.querySelector("[data-bind='url']").textContent = view.url;
      const state = holder.querySelector("[data-bind='state']");
      state.textContent = t("ops.webhooks.state_" + view.status);
      state.dataset.status = view.status === "disabled" ? "rejected" : "forwarded";
      holder.querySelector("[data-bind='disabled_reason']").textContent = view.disabled_reason || "";
      disableForm.hidden = view.status !== "enabled";
      enable.hidden = view.status === "enabled";
      disableForm.dataset.base = base;
      enable.dataset.base = base;
      const rows = deliveries.ok ? deliveries.body.items : [];
      holder.querySelector("[data-deliveries]").replaceChildren(...rows.map((delivery) => el("tr", { "data-delivery": delivery.webhook_id },
        el("td", { text: delivery.event_type }),
        // A test event concerns no complaint.
        el("td", {}, delivery.number ? el("a", { href: "/ops/complaints/" + encodeURIComponent(delivery.number), text: delivery.number }) : "–"),
        el("td", { text: tOr("ops.delivery." + delivery.status, delivery.status) }),
        el("td", { text: String(delivery.attempt_count) }),
        el("td", { text: delivery.last_error || "–" }),
        el("td", {}, button(t("ops.webhooks.redeliver"), async () => {
          const answer = await api("POST", "/v1/ops/deliveries/" + encodeURIComponent(delivery.webhook_id) + "/redeliver");
          GC.setStatus(C.status, answer.ok ? t("ops.webhooks.redelivered") : C.problemText(answer.problem));
          if (answer.ok) {
            await showEndpoint();
          }
        })))));
      holder.hidden = false;
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      GC.setStatus(C.status, "");
      showEndpoint();
    });
    disableForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const reason = disableForm.elements.namedItem("reason").value.trim();
      if (!GC.passes(disableForm, reason ? [] : [{ field: "reason", type: "missing" }])) {
        return;
      }
      const answer = await api("POST", disableForm.dataset.base + "/disable", { json: { reason } });
      if (!answer.ok) {
        GC.showProblem(disableForm, answer.problem);
        return;
      }
      disableForm.reset();
      GC.setStatus(C.status, t("ops.webhooks.disabled"));
      await showEndpoint();
    });
    enable.querySelector("button").addEventListener("click", async () => {
      const answer = await api("POST", enable.dataset.base + "/enable");
      GC.setStatus(C.status, answer.ok ? t("ops.webhooks.enabled") : C.problemText(answer.problem));
      await showEndpoint();
    });

    async function alerts() {
      const answer = await api("GET", "/v1/ops/alerts?" + new URLSearchParams({ acknowledged: "false", limit: "200" }));
      const list = document.querySelector("[data-alerts]");
      const failing = document.querySelector("[data-failing]");
      if (!answer.ok) {
        list.replaceChildren(el("li", { text: C.problemText(answer.problem) }));
        return;
      }
      const items = answer.body.items;
      list.replaceChildren(...(items.length ? items.map((alert) => el("li", { "data-alert": alert.id },
        el("strong", { text: tOr("ops.alert." + alert.kind, alert.kind) }), " ",
        el("span", { class: "meta", text: C.dateTime(alert.created_at) + (alert.company_id ? " · " + alert.company_id : "") }),
        el("p", { text: alert.detail }),
        button(t("ops.webhooks.ack"), async () => {
          const acked = await api("POST", "/v1/ops/alerts/" + encodeURIComponent(alert.id) + "/ack");
          GC.setStatus(C.status, acked.ok ? t("ops.webhooks.acked") : C.problemText(acked.problem));
          await alerts();
        }))) : [el("li", { text: t("ops.webhooks.no_alerts") })]));
      const companies = [...new Set(items.filter((alert) => ["endpoint_failing", "endpoint_gone"].includes(alert.kind) && alert.company_id)
        .map((alert) => alert.company_id))];
      failing.replaceChildren(...(companies.length ? companies.map((id) => el("li", {},
        button(id, () => {
          company.value = id;
          showEndpoint();
        }))) : [el("li", { text: t("ops.webhooks.none_failing") })]));
    }

    if (query.get("company")) {
      company.value = query.get("company");
      await showEndpoint();
    }
    await alerts();
  }

  // --- staff ---------------------------------------------------------------------------------------------

  async function staff() {
    const account = await C.ready("admin");
    if (!account) {
      return;
    }
    const rows = document.querySelector("[data-staff]");
    const ROLES = ["operator", "admin", "regulator"];

    async function change(method, path, body, done) {
      const answer = await api(method, path, body === undefined ? {} : { json: body });
      GC.setStatus(C.status, answer.ok ? done : C.problemText(answer.problem));
      await load();
    }

    function row(operator) {
      const base = "/v1/ops/operators/" + encodeURIComponent(operator.login);
      const roles = el("fieldset", { class: "roles" }, el("legend", { class: "visually-hidden", text: t("ops.staff.roles_of", { login: operator.login }) }),
        ROLES.map((role) => el("label", { class: "checkbox" },
          el("input", { type: "checkbox", name: "roles", value: role, checked: operator.roles.includes(role) }), " " + t("ops.role." + role))));
      return el("tr", { "data-operator": operator.login },
        el("th", { scope: "row", text: operator.login }),
        el("td", {}, roles, button(t("ops.staff.save_roles"), () => {
          const chosen = Array.from(roles.querySelectorAll("input:checked")).map((input) => input.value);
          change("PUT", base + "/roles", { roles: chosen }, t("ops.staff.saved"));
        })),
        el("td", { text: operator.second_factor ? t("ops.staff.enrolled") : t("ops.staff.not_enrolled") }),
        el("td", { text: operator.disabled ? t("ops.staff.disabled") : t("ops.staff.enabled") }),
        el("td", { class: "actions" },
          operator.disabled
            ? button(t("ops.staff.enable"), () => change("POST", base + "/enable", undefined, t("ops.staff.saved")))
            : button(t("ops.staff.disable"), () => change("POST", base + "/disable", undefined, t("ops.staff.saved")), "danger"),
          operator.second_factor && operator.login !== account.login
            ? button(t("ops.staff.reset_second_factor"), () => change("POST", base + "/second-factor/reset", undefined, t("ops.staff.reset_done")))
            : null));
    }

    async function load() {
      const answer = await api("GET", "/v1/ops/operators");
      if (!answer.ok) {
        fail(answer);
        return;
      }
      rows.replaceChildren(...answer.body.map(row));
    }

    const form = document.getElementById("operator-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = C.formBody(form);
      const errors = [];
      if (!/^[a-z0-9._-]{3,40}$/.test(body.login || "")) {
        errors.push({ field: "login", text: t("ops.staff.login_hint") });
      }
      if (Array.from(body.password || "").length < 10) {
        errors.push({ field: "password", type: "too_short", params: { min: 10 } });
      }
      if (!(body.roles || []).length) {
        errors.push({ field: "roles", text: t("ops.staff.roles_missing") });
      }
      if (!GC.passes(form, errors)) {
        return;
      }
      const answer = await api("POST", "/v1/ops/operators", { json: body });
      if (!answer.ok) {
        GC.showProblem(form, answer.problem);
        return;
      }
      form.reset();
      GC.setStatus(C.status, t("ops.staff.created", { login: answer.body.login }));
      await load();
    });
    await load();
  }

  // --- feedback (意见建议) ------------------------------------------------------------------------------

  async function feedback() {
    if (!(await C.ready("operator"))) {
      return;
    }
    const form = document.getElementById("feedback-form");
    const list = document.querySelector("[data-feedback]");
    const keys = {};

    function card(entry) {
      const contact = Object.values(entry.contact || {}).filter(Boolean).join(" · ");
      const noteForm = el("form", { class: "inline-form", novalidate: true },
        el("label", { for: "note-" + entry.id, text: t("ops.feedback.note") }),
        el("input", { id: "note-" + entry.id, name: "note", type: "text", required: true, "aria-required": "true", maxlength: "1000" }),
        el("button", { type: "submit", class: "button primary", text: t("ops.feedback.handle") }));
      keys[entry.id] = GC.attempts();
      noteForm.addEventListener("submit", async (event) => {
        event.preventDefault();
        const note = noteForm.elements.namedItem("note").value.trim();
        if (!note) {
          GC.setStatus(C.status, t("ops.feedback.note_missing"));
          return;
        }
        const answer = await api("POST", "/v1/ops/feedback/" + encodeURIComponent(entry.id) + "/handle",
          { json: { note }, idempotencyKey: keys[entry.id]({ note }) });
        if (!answer.ok) {
          fail(answer);
          return;
        }
        GC.setStatus(C.status, t("ops.feedback.done"));
        await load();
      });
      return el("li", { class: "card", "data-feedback-entry": entry.id },
        el("h2", { class: "h3", text: tOr("feedback.topic." + entry.topic, entry.topic) + " · " + C.dateTime(entry.submitted_at) }),
        el("p", { text: entry.text }),
        contact ? el("p", { class: "meta", text: t("ops.feedback.contact") + " " + contact }) : null,
        entry.handled ? el("p", { text: t("ops.feedback.handled", { note: entry.handled.note || "" }) }) : noteForm);
    }

    async function load() {
      const status = form.elements.namedItem("status").value;
      const answer = await api("GET", "/v1/ops/feedback?" + new URLSearchParams({ status, limit: "50" }));
      if (!answer.ok) {
        fail(answer);
        return;
      }
      list.replaceChildren(...answer.body.items.map(card));
      if (!answer.body.items.length) {
        GC.setStatus(C.status, t("ops.feedback.empty"));
      }
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      GC.setStatus(C.status, "");
      load();
    });
    await load();
  }

  // --- the directory and companies' API keys (admins) -----------------------------------------------------

  async function directory() {
    if (!(await C.ready("admin"))) {
      return;
    }
    const form = document.getElementById("directory-form");
    const rows = document.querySelector("[data-companies]");
    const keys = document.querySelector("[data-keys]");
    const keyForm = document.getElementById("key-form");
    const english = GC.config.lang === "en";
    let company = null;

    async function showKeys(chosen) {
      company = chosen;
      const answer = await api("GET", "/v1/ops/companies/" + encodeURIComponent(company.id) + "/api-keys");
      if (!answer.ok) {
        fail(answer);
        return;
      }
      keys.querySelector("[data-bind='keys_heading']").textContent =
        t("ops.directory.keys_of", { name: (english && company.name_en) || company.name });
      const items = answer.body.items;
      keys.querySelector("[data-key-list]").replaceChildren(...(items.length ? items.map((key) => el("li", { "data-key": key.key_id },
        el("span", { class: "code", text: key.key_id }), " ",
        t("ops.directory.key_line", { label: key.label || "–", at: C.dateTime(key.created_at) }), " ",
        key.revoked_at ? el("span", { class: "badge", "data-status": "rejected", text: t("ops.directory.revoked") })
          : button(t("ops.directory.revoke"), async () => {
            const revoked = await api("DELETE", "/v1/ops/api-keys/" + encodeURIComponent(key.key_id));
            GC.setStatus(C.status, revoked.ok ? t("ops.directory.revoked") : C.problemText(revoked.problem));
            await showKeys(company);
          }, "danger"))) : [el("li", { text: t("ops.directory.no_keys") })]));
      keys.hidden = false;
    }

    keyForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const label = keyForm.elements.namedItem("label").value.trim();
      const answer = await api("POST", "/v1/ops/companies/" + encodeURIComponent(company.id) + "/api-keys", { json: { label } });
      if (!answer.ok) {
        fail(answer);
        return;
      }
      keyForm.reset();
      keys.querySelector("[data-bind='api_key']").textContent = answer.body.api_key;
      keys.querySelector("[data-new-key]").hidden = false;
      await showKeys(company);
    });

    async function search() {
      const q = form.elements.namedItem("q").value.trim();
      const answer = await api("GET", "/v1/public/companies?" + new URLSearchParams({ q, limit: "50" }));
      if (!answer.ok) {
        fail(answer);
        return;
      }
      rows.replaceChildren(...answer.body.items.map((item) => el("tr", { "data-company": item.id },
        el("td", { class: "code", text: item.id }),
        el("td", { text: (english && item.name_en) || item.name }),
        el("td", { text: [...(item.aliases || []), ...(item.apps || [])].join("、") || "–" }),
        el("td", {}, button(t("ops.directory.manage_keys"), () => {
          keys.querySelector("[data-new-key]").hidden = true;
          showKeys(item).then(() => keys.querySelector("h2").focus());
        })))));
      GC.setStatus(C.status, answer.body.items.length ? "" : t("ops.directory.none"));
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      search();
    });
    const categories = await api("GET", "/v1/public/categories");
    if (categories.ok) {
      document.querySelector("[data-categories]").replaceChildren(...categories.body.items.map((item) =>
        el("li", {}, el("span", { class: "code", text: item.code }), " " + (english ? item.en : item.zh))));
    }
    await search();
  }

  const pages = {
    "ops-audit": audit, "ops-dead-letters": deadLetters, "ops-webhooks": webhooks, "ops-staff": staff, "ops-feedback": feedback,
    "ops-directory": directory,
  };
  if (pages[page]) {
    pages[page]();
  }
})();
