/* Shared by every page of the web client: translations, the JSON API of the same origin, the session
   (an HttpOnly cookie the server sets, shared by every tab; no script reads the token, the page reads
   only the CSRF token it echoes on unsafe requests), what the browser keeps for this tab (sessionStorage:
   guest access codes, never in a URL), field-by-field error messages, and the menu on narrow screens.
   Exposed as window.GC. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("gc-config").textContent);
  const messages = config.messages;
  const TIME_ZONE = "Asia/Shanghai";

  /* The catalog's text for key, with {name} placeholders filled from params. */
  function t(key, params) {
    const text = messages[key];
    if (text === undefined) {
      return key;
    }
    return params ? text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole)) : text;
  }

  function has(key) {
    return Object.prototype.hasOwnProperty.call(messages, key);
  }

  /* t(key) when the catalog has it, else the fallback (an API value the catalog does not know yet). */
  function tOr(key, fallback, params) {
    return has(key) ? t(key, params) : fallback;
  }

  // --- what this tab keeps -------------------------------------------------------------------------

  const store = window.sessionStorage;
  // Where sign-ins were kept before the session cookie: nothing is kept there any more.
  store.removeItem("gc.token");
  const CSRF_COOKIE = "gc_csrf";
  const SAFE_METHODS = ["GET", "HEAD", "OPTIONS"];

  /* The session's CSRF token, from its readable cookie; null when not signed in. */
  function csrfToken() {
    const found = document.cookie.split("; ").find((part) => part.startsWith(CSRF_COOKIE + "="));
    return found ? decodeURIComponent(found.slice(CSRF_COOKIE.length + 1)) : null;
  }

  function forgetSession() {
    document.cookie = CSRF_COOKIE + "=; Max-Age=0; Path=/; SameSite=Lax";
  }

  function readJson(key) {
    try {
      return JSON.parse(store.getItem(key) || "null");
    } catch (error) {
      return null;
    }
  }

  const session = {
    signedIn() {
      return csrfToken() !== null;
    },
    /* The headers that let an unsafe request through on the session cookie. */
    csrfHeaders() {
      const token = csrfToken();
      return token ? { "X-CSRF-Token": token } : {};
    },
    /* Keep a token a sign-in just answered in the session cookie (the server sets it; the page drops the
       token). Answers the API's answer. */
    async signIn(answer) {
      return api("POST", "/v1/session", { bearer: answer.access_token });
    },
    /* End the session on the server (the token stops working everywhere) and here. */
    async signOut() {
      if (csrfToken() !== null) {
        await api("DELETE", "/v1/session");
      }
      forgetSession();
    },
    accessCode(number) {
      return store.getItem("gc.code." + number);
    },
    rememberAccessCode(number, code) {
      store.setItem("gc.code." + number, code);
    },
    forget(number) {
      store.removeItem("gc.code." + number);
    },
    receipt(number) {
      return readJson("gc.receipt." + number);
    },
    keepReceipt(receipt) {
      store.setItem("gc.receipt." + receipt.number, JSON.stringify(receipt));
    },
  };

  // --- the API -------------------------------------------------------------------------------------

  /* Call the JSON API. options: json (body), idempotencyKey, accessCode (else the session cookie, if signed
     in, with its CSRF token on unsafe methods), bearer (a token just issued, to start the session with).
     Answers {ok, status, body, problem}; a network failure is status 0 with problem code "network". */
  async function api(method, path, options) {
    const opts = options || {};
    const headers = { Accept: "application/json" };
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    if (opts.idempotencyKey) {
      headers["Idempotency-Key"] = opts.idempotencyKey;
    }
    const bySession = !opts.accessCode && !opts.bearer && session.signedIn();
    if (opts.accessCode) {
      headers["X-Access-Code"] = opts.accessCode;
    } else if (opts.bearer) {
      headers.Authorization = "Bearer " + opts.bearer;
    } else if (bySession && !SAFE_METHODS.includes(method)) {
      Object.assign(headers, session.csrfHeaders());
    }
    let response;
    try {
      response = await fetch(path, {
        method, headers, credentials: "same-origin", cache: "no-store",
        body: opts.json === undefined ? undefined : JSON.stringify(opts.json),
      });
    } catch (error) {
      return { ok: false, status: 0, body: null, problem: { code: "network" } };
    }
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    if (response.status === 401 && bySession) {
      // The session ended elsewhere (signed out in another tab, expired, password changed).
      forgetSession();
      applySessionState();
    }
    const problem = response.ok ? null : Object.assign({ code: "http_" + response.status }, body || {});
    if (problem && response.status === 429 && !problem.retry_after_s) {
      // A limit answered by something other than the API (a proxy) may say the wait in the header only.
      problem.retry_after_s = Number(response.headers.get("Retry-After")) || null;
    }
    return { ok: response.ok, status: response.status, body, problem };
  }

  /* What to tell a person about a problem document: the catalog's text for its code, or a general one. */
  function problemText(problem) {
    return tOr("problem." + problem.code, t("problem.generic", { status: problem.status || "" }));
  }

  /* A fresh key for one attempt at a POST: the same body sent again (a retry) keeps its key. */
  function attempts() {
    let last = null;
    return function keyFor(body) {
      const text = JSON.stringify(body);
      if (!last || last.text !== text) {
        const bytes = crypto.getRandomValues(new Uint8Array(16));
        last = { text, key: Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("") };
      }
      return last.key;
    };
  }

  // --- building the page -----------------------------------------------------------------------------

  /* A DOM element: attrs ("text" sets its text, others are attributes), then children (nodes or text). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([name, value]) => {
      if (value === null || value === undefined || value === false) {
        return;
      }
      if (name === "text") {
        node.textContent = value;
      } else {
        node.setAttribute(name, value === true ? "" : value);
      }
    });
    children.flat().forEach((child) => {
      if (child !== null && child !== undefined && child !== false) {
        node.append(child instanceof Node ? child : String(child));
      }
    });
    return node;
  }

  function formatDateTime(iso) {
    return new Intl.DateTimeFormat(config.lang, { dateStyle: "medium", timeStyle: "short", timeZone: TIME_ZONE })
      .format(new Date(iso));
  }

  /* A calendar date of China (YYYY-MM-DD), e.g. a deadline. */
  function formatDate(day) {
    return new Intl.DateTimeFormat(config.lang, { dateStyle: "long", timeZone: TIME_ZONE })
      .format(new Date(day + "T12:00:00+08:00"));
  }

  function formatBytes(bytes) {
    const [unit, size] = bytes >= 1024 * 1024 ? ["megabyte", bytes / 1048576]
      : bytes >= 1024 ? ["kilobyte", bytes / 1024] : ["byte", bytes];
    return new Intl.NumberFormat(config.lang, { style: "unit", unit, unitDisplay: "short", maximumFractionDigits: 1 })
      .format(size);
  }

  // --- field errors ----------------------------------------------------------------------------------

  /* The field of a dotted API path: its own [data-field], else the nearest parent path's. */
  function fieldOf(form, path) {
    let current = path || "";
    while (current) {
      const found = form.querySelector('[data-field="' + CSS.escape(current) + '"]');
      if (found) {
        return found;
      }
      current = current.includes(".") ? current.slice(0, current.lastIndexOf(".")) : "";
    }
    return null;
  }

  function controlOf(field) {
    return field.querySelector("input, select, textarea");
  }

  function labelOf(field) {
    const label = field.querySelector("label, legend");
    if (!label) {
      return "";
    }
    const copy = label.cloneNode(true);
    copy.querySelectorAll(".optional").forEach((node) => node.remove());
    return copy.textContent.trim();
  }

  function length(value) {
    return Array.from(value).length; // code points, as the API counts
  }

  /* The message for an error type on a field, in the page's language: the field's own wording where the
     catalog has one ("error.<type>.<label key>", e.g. "Describe what happened."), else the type's general one
     with the field's label; unknown types keep the API's text. */
  function errorMessage(field, type, params, apiMessage) {
    const control = field ? controlOf(field) : null;
    const context = Object.assign({
      label: field ? labelOf(field) : "",
      min: control ? control.getAttribute("minlength") : "",
      max: control ? control.getAttribute("maxlength") : "",
    }, params || {});
    const general = tOr("error." + type, apiMessage || t("error.invalid", context), context);
    return field && field.dataset.label ? tOr("error." + type + "." + field.dataset.label, general, context) : general;
  }

  /* A mobile number and an e-mail address as the API checks them (intake.domain.filing); empty is no error
     here ("missing" is found by checkLengths). */
  function phoneError(raw) {
    const value = raw.replace(/[\s-]/g, "");
    return !value || /^(\+?86)?1[3-9]\d{9}$/.test(value) ? null : { type: "phone_format" };
  }

  function emailError(raw) {
    const value = raw.trim();
    return !value || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value) ? null : { type: "email_format" };
  }

  /* Required fields and length limits, as the form declares them (from the API's own models). */
  function checkLengths(form) {
    const errors = [];
    form.querySelectorAll("[data-field]").forEach((field) => {
      const control = controlOf(field);
      if (!control || !control.name || control.type === "checkbox" || control.type === "radio" || control.type === "file") {
        return;
      }
      const value = control.value.trim();
      const min = Number(control.getAttribute("minlength") || 0);
      const max = Number(control.getAttribute("maxlength") || 0);
      if (!value) {
        if (control.required) {
          errors.push({ field: field.dataset.field, type: "missing" });
        }
      } else if (min && length(value) < min) {
        errors.push({ field: field.dataset.field, type: "string_too_short" });
      } else if (max && length(value) > max) {
        errors.push({ field: field.dataset.field, type: "string_too_long" });
      }
    });
    return errors;
  }

  function clearErrors(form) {
    form.querySelectorAll(".error-message").forEach((node) => {
      node.hidden = true;
      node.textContent = "";
    });
    form.querySelectorAll("[aria-invalid]").forEach((control) => {
      control.removeAttribute("aria-invalid");
      const described = (control.getAttribute("aria-describedby") || "").split(" ")
        .filter((id) => id && !id.endsWith("-error"));
      if (described.length) {
        control.setAttribute("aria-describedby", described.join(" "));
      } else {
        control.removeAttribute("aria-describedby");
      }
    });
    const notice = form.querySelector("[data-rate-limit]");
    if (notice && !waiting(form)) {
      notice.hidden = true;
    }
    const summary = form.querySelector(".error-summary");
    if (summary) {
      summary.hidden = true;
      summary.querySelector("ul").replaceChildren();
    }
  }

  /* Show errors ({field, type, params, message}) next to their fields and in the summary, which takes the
     focus so that the list is read out; each summary entry links to its field. */
  function showErrors(form, errors) {
    clearErrors(form);
    const summary = form.querySelector(".error-summary");
    const list = summary.querySelector("ul");
    const shown = new Set();
    errors.forEach((error) => {
      const field = fieldOf(form, error.field);
      const text = error.text || errorMessage(field, error.type, error.params, error.message);
      const control = field ? controlOf(field) : null;
      const message = field ? field.querySelector(".error-message") : null;
      if (message && !shown.has(field)) {
        shown.add(field);
        message.textContent = text;
        message.hidden = false;
        control.setAttribute("aria-invalid", "true");
        const described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        control.setAttribute("aria-describedby", described.concat(message.id).join(" "));
      }
      list.append(el("li", {}, control && control.id ? el("a", { href: "#" + control.id, text }) : text));
    });
    summary.hidden = false;
    summary.focus();
  }

  /* The form's errors shown (false), or none and the old ones cleared (true): go on and send it. */
  function passes(form, errors) {
    if (errors.length) {
      showErrors(form, errors);
      return false;
    }
    clearErrors(form);
    return true;
  }

  /* An API answer's field errors in showErrors' shape (the problem's own detail when it names no field). */
  function problemErrors(problem, fieldOfType) {
    if (problem.code === "validation_failed" && Array.isArray(problem.errors)) {
      return problem.errors.map((error) => ({
        field: error.field || (fieldOfType || {})[error.type] || "",
        type: error.type,
        message: error.message,
      }));
    }
    return [{ field: "", text: problemText(problem) }];
  }

  /* A field's message goes as soon as the field is edited: a stale one would blame the new value. */
  document.addEventListener("input", (event) => {
    const field = event.target.closest && event.target.closest("[data-field]");
    const control = field ? controlOf(field) : null;
    if (!control || control.getAttribute("aria-invalid") !== "true") {
      return;
    }
    const message = field.querySelector(".error-message");
    if (message) {
      message.hidden = true;
      message.textContent = "";
    }
    control.removeAttribute("aria-invalid");
    const described = (control.getAttribute("aria-describedby") || "").split(" ")
      .filter((id) => id && (!message || id !== message.id));
    if (described.length) {
      control.setAttribute("aria-describedby", described.join(" "));
    } else {
      control.removeAttribute("aria-describedby");
    }
    const summary = control.form ? control.form.querySelector(".error-summary") : null;
    if (summary && control.id) {
      summary.querySelectorAll('a[href="#' + CSS.escape(control.id) + '"]').forEach((link) => link.closest("li").remove());
      summary.hidden = !summary.querySelector("li");
    }
  });

  // --- being rate-limited ----------------------------------------------------------------------------

  /* A 429 is nothing to fix in the form: a notice of its own says how long to wait and counts down, and
     the form's submit button stays disabled until the wait is over. */
  function showRateLimit(form, problem) {
    clearErrors(form);
    let notice = form.querySelector("[data-rate-limit]");
    if (!notice) {
      notice = el("p", { class: "notice rate-limit", role: "alert", tabindex: "-1", "data-rate-limit": true });
      form.prepend(notice);
    }
    clearInterval(Number(notice.dataset.timer));
    const button = form.querySelector("button[type=submit]");
    const seconds = Math.max(1, Math.ceil(Number(problem.retry_after_s) || 0));
    const until = Date.now() + seconds * 1000;
    form.dataset.waitUntil = String(until);
    if (button) {
      button.disabled = true;
    }
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left > 0) {
        notice.textContent = t("problem.rate_limited_wait", { seconds: left });
        return;
      }
      clearInterval(Number(notice.dataset.timer));
      delete form.dataset.waitUntil;
      notice.textContent = t("problem.rate_limited_over");
      if (button) {
        button.disabled = false;
      }
    };
    tick();
    notice.dataset.timer = String(setInterval(tick, 1000));
    notice.hidden = false;
    notice.focus();
  }

  /* Whether a form is still waiting out a rate limit (its submit button must stay disabled). */
  function waiting(form) {
    return Number(form.dataset.waitUntil || 0) > Date.now();
  }

  /* An API answer that failed, on its form: a rate limit's notice, or the field errors of problemErrors. */
  function showProblem(form, problem, fieldOfType) {
    if (problem.status === 429 || problem.code === "http_429") {
      showRateLimit(form, problem);
      return;
    }
    showErrors(form, problemErrors(problem, fieldOfType));
  }

  /* Follow a summary link: focus the control and bring its label into view. */
  document.addEventListener("click", (event) => {
    const link = event.target.closest(".error-summary a[href^='#']");
    if (!link) {
      return;
    }
    const control = document.getElementById(link.getAttribute("href").slice(1));
    if (control) {
      event.preventDefault();
      control.focus();
      const field = control.closest("[data-field]");
      (field || control).scrollIntoView({ block: "center" });
    }
  });

  // --- signed in or not, and the menu ----------------------------------------------------------------

  function applySessionState() {
    const signedIn = session.signedIn();
    document.querySelectorAll("[data-when]").forEach((node) => {
      node.hidden = (node.dataset.when === "signed-in") !== signedIn;
    });
  }

  function setUpMenu() {
    const toggle = document.querySelector(".menu-toggle");
    const nav = document.getElementById("site-nav");
    document.documentElement.classList.add("js");
    toggle.hidden = false;
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("open", open);
    });
    document.querySelectorAll("[data-action='sign-out']").forEach((button) => {
      button.addEventListener("click", async () => {
        await session.signOut();
        window.location.assign("/");
      });
    });
  }

  /* Where to go after signing in: a path of this site only (never another origin). */
  function safeNext(value, fallback) {
    return value && value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/\\") ? value : fallback;
  }

  function setStatus(node, text) {
    if (node) {
      node.textContent = text;
    }
  }

  applySessionState();
  setUpMenu();

  window.GC = {
    config, t, tOr, has, session, api, problemText, attempts, el, formatDate, formatDateTime, formatBytes,
    fieldOf, checkLengths, phoneError, emailError, clearErrors, showErrors, passes, problemErrors, applySessionState, safeNext, setStatus,
    showProblem, showRateLimit, waiting,
  };
})();
