/* The operator console (运营后台): who is signed in and what the account may open (the navigation shows
   only its pages), sign-in with the authenticator's code and an admin's enrolment, the dashboard and the
   work queues. Every action goes through the operator API; the session is the web client's HttpOnly cookie.
   Exposed as GC.Console. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, tOr, el, api, session } = GC;
  const page = document.body.dataset.page;
  const query = new URLSearchParams(window.location.search);
  const status = document.querySelector("[data-status]");

  function toSignIn() {
    window.location.replace("/ops/login?" + new URLSearchParams({ next: window.location.pathname + window.location.search }));
  }

  /* The signed-in account (login, roles, second factor), or null after sending the browser to sign in. */
  async function whoAmI() {
    if (!session.signedIn()) {
      toSignIn();
      return null;
    }
    const answer = await api("GET", "/v1/ops/auth/second-factor");
    if (!answer.ok) {
      toSignIn();
      return null;
    }
    return answer.body;
  }

  function hasRole(account, role) {
    const roles = account.roles || [];
    // An admin holds every role's powers (the API says so too); a regulator only their own.
    return roles.includes(role) || roles.includes("admin");
  }

  function showAccount(account) {
    document.querySelectorAll("[data-role]").forEach((item) => {
      item.hidden = !hasRole(account, item.dataset.role);
    });
    const who = document.querySelector("[data-bind='who']");
    if (who) {
      who.textContent = t("ops.signed_in_as", { login: account.login || "" });
    }
  }

  document.querySelectorAll("[data-action='ops-sign-out']").forEach((button) => {
    button.addEventListener("click", async () => {
      await session.signOut();
      window.location.assign("/ops/login");
    });
  });

  /* Every console page but sign-in: the account, or nothing (then the browser is on its way to sign in). The
     page says so when the account may not open it. */
  async function ready(role) {
    const account = await whoAmI();
    if (!account) {
      return null;
    }
    showAccount(account);
    if (account.status === "enrol") {
      // An admin signed in before enrolling: enrol first (the sign-in page does it).
      window.location.replace("/ops/login?enrol=1");
      return null;
    }
    if (role && !hasRole(account, role)) {
      GC.setStatus(status, t("ops.forbidden"));
      return null;
    }
    return account;
  }

  function problemText(problem) {
    return tOr("ops.problem." + problem.code, GC.problemText(problem));
  }

  function statusBadge(value) {
    return el("span", { class: "badge", "data-status": value, text: tOr("status." + value, value) });
  }

  function dateTime(iso) {
    return iso ? GC.formatDateTime(iso) : "–";
  }

  function date(day) {
    return day ? GC.formatDate(day) : "–";
  }

  /* A form's fields as an object: empty optional fields left out, numbers as numbers. */
  function formBody(form) {
    const body = {};
    Array.from(form.elements).forEach((control) => {
      if (!control.name || control.type === "submit" || control.type === "button") {
        return;
      }
      if (control.type === "checkbox") {
        if (control.checked) {
          (body[control.name] = body[control.name] || []).push(control.value);
        }
        return;
      }
      const value = control.value.trim();
      if (value !== "") {
        body[control.name] = control.type === "number" ? Number(value) : value;
      }
    });
    return body;
  }

  GC.Console = { ready, hasRole, problemText, statusBadge, dateTime, date, formBody, status };

  // --- sign-in and enrolment -------------------------------------------------------------------------

  async function startSession(form, issued) {
    const started = await session.signIn(issued);
    if (!started.ok) {
      GC.showProblem(form, started.problem);
      return;
    }
    window.location.assign(GC.safeNext(query.get("next"), "/ops/"));
  }

  async function enrol(token) {
    const section = document.getElementById("enrol");
    const begun = await api("POST", "/v1/ops/auth/second-factor", { bearer: token });
    if (!begun.ok) {
      GC.showProblem(document.getElementById("ops-login-form"), begun.problem);
      return;
    }
    section.querySelector("[data-bind='secret']").textContent = begun.body.secret;
    section.querySelector("[data-bind='provisioning_uri']").textContent = begun.body.provisioning_uri;
    document.getElementById("ops-login-form").hidden = true;
    section.hidden = false;
    section.querySelector("h2").focus();
    const form = document.getElementById("ops-enrol-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const code = form.elements.namedItem("one_time_code").value.trim();
      if (!GC.passes(form, /^\d{6}$/.test(code) ? [] : [{ field: "one_time_code", type: "code_format" }])) {
        return;
      }
      const confirmed = await api("POST", "/v1/ops/auth/second-factor/confirm", { bearer: token, json: { one_time_code: code } });
      if (!confirmed.ok) {
        GC.showErrors(form, [{ field: "one_time_code", text: problemText(confirmed.problem) }]);
        return;
      }
      await startSession(form, confirmed.body);
    });
  }

  const loginForm = document.getElementById("ops-login-form");
  if (loginForm) {
    loginForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = formBody(loginForm);
      const errors = ["login", "password"].filter((name) => !body[name]).map((field) => ({ field, type: "missing" }));
      if (body.one_time_code && !/^\d{6}$/.test(body.one_time_code)) {
        errors.push({ field: "one_time_code", type: "code_format" });
      }
      if (!GC.passes(loginForm, errors)) {
        return;
      }
      const answer = await api("POST", "/v1/ops/auth/token", { json: body });
      if (!answer.ok) {
        if (["second_factor_required", "second_factor_invalid"].includes(answer.problem.code)) {
          GC.showErrors(loginForm, [{ field: "one_time_code", text: problemText(answer.problem) }]);
        } else {
          GC.showProblem(loginForm, answer.problem);
        }
        return;
      }
      if (answer.body.second_factor === "enrol") {
        await enrol(answer.body.access_token);
        return;
      }
      await startSession(loginForm, answer.body);
    });
  }

  // --- the dashboard ---------------------------------------------------------------------------------

  async function dashboard() {
    const account = await ready("operator");
    if (!account) {
      if (session.signedIn()) {
        window.location.replace("/ops/regulator"); // a regulator's console is the regulator view
      }
      return;
    }
    const openForm = document.getElementById("ops-open-form");
    openForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const number = openForm.elements.namedItem("number").value.trim();
      if (number) {
        window.location.assign("/ops/complaints/" + encodeURIComponent(number));
      }
    });
    const answer = await api("GET", "/v1/ops/dashboard");
    if (!answer.ok) {
      GC.setStatus(status, problemText(answer.problem));
      return;
    }
    const figures = answer.body;
    Object.entries(figures.queues).forEach(([kind, count]) => {
      const node = document.querySelector("[data-count='" + kind + "']");
      if (node) {
        node.textContent = String(count);
        node.closest("li").classList.toggle("waiting", count > 0);
      }
    });
    Object.entries(figures.dead_letters).forEach(([service, count]) => {
      const node = document.querySelector("[data-letters='" + service + "']");
      if (node) {
        node.textContent = String(count);
        node.closest("li").classList.toggle("waiting", count > 0);
      }
    });
    const down = figures.open_alerts === null;
    document.querySelector("[data-bind='open_alerts']").textContent = down ? "?" : String(figures.open_alerts);
    document.querySelector("[data-bind='failing_count']").textContent = down ? "?" : String(figures.failing_endpoints.length);
    document.querySelector("[data-bind='notification_down']").hidden = !down;
    document.querySelector("[data-board]").hidden = false;
    GC.setStatus(status, "");
  }

  // --- a work queue ----------------------------------------------------------------------------------

  async function workQueue() {
    if (!(await ready("operator"))) {
      return;
    }
    const holder = document.querySelector("[data-queue]");
    const body = holder.querySelector("tbody");
    const more = document.querySelector("[data-more]");
    let cursor = null;
    async function load() {
      const params = new URLSearchParams({ kind: holder.dataset.queue, limit: "50" });
      if (cursor) {
        params.set("cursor", cursor);
      }
      const answer = await api("GET", "/v1/ops/queue?" + params);
      if (!answer.ok) {
        GC.setStatus(status, problemText(answer.problem));
        return;
      }
      answer.body.items.forEach((item) => body.append(el("tr", {},
        el("th", { scope: "row" }, el("a", { href: "/ops/complaints/" + encodeURIComponent(item.number), text: item.number })),
        el("td", { text: item.title }),
        el("td", { text: item.company.name || item.company.id || "–" }),
        el("td", {}, statusBadge(item.status), item.overdue ? el("span", { class: "badge warning", text: t("ops.complaint.overdue") }) : null),
        el("td", { text: dateTime(item.submitted_at) }),
        el("td", { text: date(item.response_due) }))));
      cursor = answer.body.next_cursor;
      more.hidden = !cursor;
      holder.hidden = false;
      GC.setStatus(status, body.children.length ? "" : t("ops.queue.empty"));
    }
    more.addEventListener("click", load);
    await load();
  }

  if (page === "ops-dashboard" && document.querySelector("[data-board]")) {
    dashboard();
  } else if (page === "ops-dashboard" && document.querySelector("[data-queue]")) {
    workQueue();
  } else if (page === "ops-login" && query.get("enrol") && session.signedIn()) {
    GC.setStatus(loginForm.querySelector(".form-status"), t("ops.enrol.sign_in_again"));
  }
})();
