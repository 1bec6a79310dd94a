/* The account: register and reset a password with a code sent to the login, sign in (the token goes into the
   HttpOnly session cookie at once, so every tab is signed in and no script keeps it), my complaints with
   claiming a guest complaint, and my messages (站内信). */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, tOr, el, api, session } = GC;
  const page = new URLSearchParams(window.location.search);

  function requireSignIn() {
    if (!session.signedIn()) {
      window.location.replace("/account/login?" + new URLSearchParams({ next: window.location.pathname }));
      return false;
    }
    return true;
  }

  async function signIn(form, login, password) {
    const answer = await api("POST", "/v1/auth/token", { json: { login, password } });
    if (!answer.ok) {
      GC.showProblem(form, answer.problem);
      return;
    }
    await startSession(form, answer.body);
  }

  /* Keep the token a sign-in answered in the session cookie, then go on to where the person was going. */
  async function startSession(form, issued) {
    const started = await session.signIn(issued);
    if (!started.ok) {
      GC.showProblem(form, started.problem);
      return;
    }
    window.location.assign(GC.safeNext(page.get("next"), "/account"));
  }

  function loginError(login) {
    const mobile = /^(\+?86)?1[3-9]\d{9}$/.test(login.replace(/[\s-]/g, ""));
    return login && !mobile && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(login) ? { field: "login", type: "login_format" } : null;
  }

  const loginForm = document.getElementById("login-form");
  if (loginForm) {
    loginForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const errors = GC.checkLengths(loginForm);
      if (!GC.passes(loginForm, errors)) {
        return;
      }
      await signIn(loginForm, loginForm.elements.namedItem("login").value.trim(), loginForm.elements.namedItem("password").value);
    });
  }

  /* Registration and password reset, in two steps: the login is sent a code (the answer is the same whether
     or not it has an account: the message itself says), then the code and a password finish it and sign in. */
  document.querySelectorAll("form[data-code-request]").forEach((requestForm) => {
    const confirmForm = requestForm.parentElement.querySelector("form[data-code-confirm]");
    let login = "";

    requestForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = requestForm.elements.namedItem("login").value.trim();
      const errors = GC.checkLengths(requestForm);
      const badLogin = loginError(value);
      if (badLogin && !errors.some((error) => error.field === "login")) {
        errors.unshift(badLogin);
      }
      if (!GC.passes(requestForm, errors)) {
        return;
      }
      const answer = await api("POST", requestForm.dataset.codeRequest, { json: { login: value } });
      if (!answer.ok) {
        GC.showProblem(requestForm, answer.problem);
        return;
      }
      login = value;
      GC.setStatus(requestForm.querySelector(".form-status"), t("account.code_sent", { login }));
      confirmForm.hidden = false;
      confirmForm.elements.namedItem("code").focus();
    });

    confirmForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const errors = GC.checkLengths(confirmForm);
      if (!GC.passes(confirmForm, errors)) {
        return;
      }
      const body = {
        login,
        code: confirmForm.elements.namedItem("code").value.replace(/\s/g, ""),
        password: confirmForm.elements.namedItem("password").value,
      };
      const name = confirmForm.elements.namedItem("name");
      if (name) {
        body.name = name.value.trim() || null;
      }
      const answer = await api("POST", confirmForm.dataset.codeConfirm, { json: body });
      if (!answer.ok) {
        if (answer.problem.code === "code_invalid") {
          GC.showErrors(confirmForm, [{ field: "code", text: t("problem.code_invalid") }]);
        } else {
          GC.showProblem(confirmForm, answer.problem);
        }
        return;
      }
      await startSession(confirmForm, answer.body);
    });
  });

  /* A list read a page at a time (cursor), with a "more" button; shown(items) is called with each page shown. */
  function pagedList(path, render, shown) {
    const target = document.querySelector("[data-list]");
    const more = document.querySelector("[data-action='more']");
    const status = document.querySelector("[data-list-status]");
    let cursor = null;

    async function fetchPage(first) {
      const query = new URLSearchParams({ limit: "20" });
      if (cursor) {
        query.set("cursor", cursor);
      }
      const answer = await api("GET", path + "?" + query);
      if (!answer.ok) {
        if (answer.status === 401) {
          requireSignIn();
        }
        GC.setStatus(status, GC.problemText(answer.problem));
        return;
      }
      if (first) {
        target.replaceChildren();
      }
      target.append(...answer.body.items.map(render));
      if (shown) {
        shown(answer.body.items);
      }
      cursor = answer.body.next_cursor;
      more.hidden = !cursor;
      document.querySelector("[data-show='empty']").hidden = target.children.length > 0;
      GC.setStatus(status, t("account.loaded", { count: target.children.length }));
    }

    more.addEventListener("click", () => fetchPage(false));
    return fetchPage;
  }

  function complaintCard(item) {
    const link = "/follow?" + new URLSearchParams({ number: item.number });
    return el("li", { class: "card" },
      el("h3", {}, el("a", { href: link, text: item.title })),
      el("p", {}, el("span", { class: "code", text: item.number }), " ",
        el("span", { class: "badge", "data-status": item.status, text: tOr("status." + item.status, item.status) }),
        item.overdue ? el("span", { class: "badge warning", text: t("follow.overdue") }) : null),
      el("p", { class: "meta" }, t("account.submitted", { at: GC.formatDateTime(item.submitted_at) }),
        item.response_due ? " · " + t("account.due", { day: GC.formatDate(item.response_due) }) : ""));
  }

  function messageItem(message) {
    const english = GC.config.lang === "en";
    return el("li", { class: message.read_at ? "" : "unread" },
      el("p", { class: "meta" }, GC.formatDateTime(message.created_at), " · ",
        el("a", { href: "/follow?" + new URLSearchParams({ number: message.number }), text: message.number }),
        message.read_at ? null : el("span", { class: "badge", text: t("messages.unread") })),
      el("p", { class: "message-title", text: english ? message.title_en : message.title_zh }),
      el("p", { text: english ? message.body_en : message.body_zh }));
  }

  /* Messages shown are read: each unread one is marked (it keeps its "unread" badge until the page is left, so
     the reader still sees which ones are new), then the menu's count is refreshed. */
  async function markRead(items) {
    const unread = items.filter((message) => !message.read_at);
    await Promise.all(unread.map((message) => api("POST", "/v1/me/messages/" + encodeURIComponent(message.id) + "/read")));
    if (unread.length) {
      document.dispatchEvent(new CustomEvent("gc:messages-read"));
    }
  }

  const body = document.body.dataset.page === "account" ? document.querySelector("[data-list]") : null;
  if (body && requireSignIn()) {
    const mine = body.dataset.list === "complaints";
    const load = mine ? pagedList("/v1/me/complaints", complaintCard) : pagedList("/v1/me/messages", messageItem, markRead);
    load(true);

    const claim = document.getElementById("claim-form");
    if (claim) {
      claim.addEventListener("submit", async (event) => {
        event.preventDefault();
        const errors = GC.checkLengths(claim);
        if (!GC.passes(claim, errors)) {
          return;
        }
        const number = claim.elements.namedItem("number").value.trim().toUpperCase();
        const code = claim.elements.namedItem("access_code").value.replace(/[\s-]/g, "").toUpperCase();
        const answer = await api("POST", "/v1/me/complaints/claim", { json: { number, access_code: code } });
        if (!answer.ok) {
          if (answer.status === 404) {
            GC.showErrors(claim, [{ field: "", text: t("follow.not_found") }]);
          } else {
            GC.showProblem(claim, answer.problem);
          }
          return;
        }
        claim.reset();
        GC.setStatus(claim.querySelector(".form-status"), t("account.claimed", { number }));
        load(true);
      });
    }
  }
})();
