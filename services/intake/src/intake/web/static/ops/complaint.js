/* A complaint in the console: its state, deadlines and clock pauses, the company's answers, rating, appeal and
   cluster, the timeline with links into the trace UI, the identity masked with one field revealed at a time
   for a stated reason (audited by the API before it answers), and the actions its state allows. */
(function () {
  "use strict";
  const GC = window.GC;
  const C = GC.Console;
  const { t, tOr, el, api } = GC;
  const holder = document.getElementById("case");
  const number = holder.dataset.number;
  const path = "/v1/ops/complaints/" + encodeURIComponent(number);

  function bind(name, value) {
    const node = holder.querySelector("[data-bind='" + name + "']");
    if (node) {
      node.textContent = value === null || value === undefined || value === "" ? "–" : String(value);
    }
    return node;
  }

  function show(name, visible) {
    holder.querySelector("[data-show='" + name + "']").hidden = !visible;
  }

  function entry(label, value) {
    return el("div", {}, el("dt", { text: label }), el("dd", { text: value === null || value === undefined ? "–" : String(value) }));
  }

  function render(view, traces) {
    const badge = bind("status", tOr("status." + view.status, view.status));
    badge.dataset.status = view.status;
    holder.querySelector("[data-bind='overdue']").hidden = !view.overdue;
    bind("company", view.company.name ? view.company.name + " (" + view.company.id + ")" : view.company.requested || view.company.id);
    bind("category", categories[view.category] || view.category);
    bind("submitted_at", C.dateTime(view.submitted_at));
    bind("forwarded_at", C.dateTime(view.forwarded_at));
    bind("response_due", C.date(view.response_due));
    bind("appeal_due", C.date(view.appeal_due));
    bind("round", view.round);
    bind("cluster", view.cluster_id);
    bind("title", view.title);
    bind("description", view.description);
    bind("desired_outcome", view.desired_outcome);
    Object.entries(view.complainant || {}).forEach(([field, value]) => {
      const node = holder.querySelector("[data-identity-field='" + field + "']");
      if (node && !node.dataset.revealed) {
        node.textContent = value || "–";
      }
    });

    const answers = [];
    if (view.response) {
      answers.push(el("li", {}, el("strong", { text: t("ops.complaint.response") + " · " + C.dateTime(view.response.at) }),
        el("p", { text: tOr("response_type." + view.response.type, view.response.type || "") + " · " + (view.response.text || "") })));
    }
    (view.info_requests || []).forEach((request) => answers.push(el("li", {},
      el("strong", { text: t("ops.complaint.info_request") + " · " + C.dateTime(request.at) }), el("p", { text: request.question || "" }))));
    holder.querySelector("[data-list='answers']").replaceChildren(...answers);
    show("answers", answers.length > 0);

    const pauses = [];
    (view.info_requests || []).forEach((request, index) => {
      const supplement = (view.supplements || [])[index];
      pauses.push(el("li", { text: t("ops.complaint.pause", {
        from: C.dateTime(request.at), to: supplement ? C.dateTime(supplement.at) : t("ops.complaint.pause_open"),
      }) }));
    });
    holder.querySelector("[data-list='pauses']").replaceChildren(...pauses);
    show("pauses", pauses.length > 0);

    const outcome = [];
    if (view.rating) {
      outcome.push(entry(t("ops.complaint.rating"), view.rating.rating + " / 5" + (view.rating.comment ? " · " + view.rating.comment : "")));
    }
    if (view.appeal) {
      outcome.push(entry(t("ops.complaint.appeal"), (view.appeal.reason || "") + " · " + C.dateTime(view.appeal.at)));
    }
    if (view.closure) {
      outcome.push(entry(t("ops.complaint.closure"), tOr("ops.outcome." + view.closure.outcome, view.closure.outcome || "")));
    }
    if (view.rejection) {
      outcome.push(entry(t("ops.complaint.rejection"), tOr("rejection." + view.rejection.reason, view.rejection.reason) +
        (view.rejection.detail ? " · " + view.rejection.detail : "")));
    }
    holder.querySelector("[data-list='outcome']").replaceChildren(...outcome);
    show("outcome", outcome.length > 0);

    const links = {};
    (traces || []).forEach((trace) => { links[trace.trace_id] = trace.url; });
    holder.querySelector("[data-list='timeline']").replaceChildren(...view.timeline.slice().reverse().map((step) => el("li", {},
      el("time", { datetime: step.at, text: C.dateTime(step.at) }), " ",
      el("span", { text: tOr("timeline." + step.action, step.action) }),
      step.detail ? el("span", { class: "meta", text: " · " + step.detail }) : null,
      el("span", { class: "meta", text: " · " + step.actor }),
      step.trace_id && links[step.trace_id]
        ? [" ", el("a", { href: links[step.trace_id], rel: "noopener noreferrer", target: "_blank", "data-trace": step.trace_id, text: t("ops.complaint.trace") })]
        : null)));

    const allowed = view.operator_actions || [];
    holder.querySelectorAll("[data-action-panel]").forEach((panel) => {
      panel.hidden = !allowed.includes(panel.dataset.actionPanel);
    });
    show("actions", allowed.length > 0);
  }

  // The categories' names in the page's language, from the directory (as the public pages show them).
  const categories = {};

  async function load() {
    const [view, traces, listed] = await Promise.all([
      api("GET", path), api("GET", path + "/traces"), api("GET", "/v1/public/categories"),
    ]);
    if (listed.ok) {
      listed.body.items.forEach((item) => { categories[item.code] = GC.config.lang === "en" ? item.en : item.zh; });
    }
    if (!view.ok) {
      GC.setStatus(C.status, view.status === 404 ? t("ops.complaint.not_found") : C.problemText(view.problem));
      holder.hidden = true;
      return false;
    }
    render(view.body, traces.ok ? traces.body.traces : []);
    holder.hidden = false;
    GC.setStatus(C.status, "");
    return true;
  }

  const revealForm = document.getElementById("reveal-form");
  revealForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = C.formBody(revealForm);
    if (!GC.passes(revealForm, Array.from(body.reason || "").length >= 8 ? [] : [{ field: "reason", type: "reason_short" }])) {
      return;
    }
    const answer = await api("POST", path + "/reveal", { json: body });
    if (!answer.ok) {
      GC.showProblem(revealForm, answer.problem);
      return;
    }
    const node = holder.querySelector("[data-identity-field='" + answer.body.field + "']");
    node.textContent = answer.body.value;
    node.dataset.revealed = "true";
    node.classList.add("revealed");
    GC.setStatus(revealForm.querySelector(".form-status"), t("ops.reveal.done", { field: t("ops.identity." + answer.body.field) }));
    revealForm.elements.namedItem("reason").value = "";
  });

  const actionStatus = holder.querySelector("[data-action-status]");
  const keys = {};
  holder.querySelectorAll("form[data-action]").forEach((form) => {
    const action = form.dataset.action;
    keys[action] = GC.attempts();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = C.formBody(form);
      const errors = [];
      form.querySelectorAll("[required]").forEach((control) => {
        if (!control.value.trim()) {
          errors.push({ field: control.name, type: "missing" });
        }
      });
      if (errors.length && !GC.passes(form, errors)) {
        return;
      }
      const answer = action === "review"
        ? await api("POST", path + "/review")
        : await api("POST", path + "/" + action.replace("_", "-"), { json: body, idempotencyKey: keys[action](body) });
      if (!answer.ok) {
        if (form.querySelector(".error-summary")) {
          GC.showProblem(form, answer.problem);
        } else {
          GC.setStatus(actionStatus, C.problemText(answer.problem));
        }
        return;
      }
      form.reset();
      const panel = form.closest("details");
      if (panel) {
        panel.open = false;
      }
      await load();
      GC.setStatus(actionStatus, t("ops.action.done", { action: t("ops.action." + action) }));
    });
  });

  // Any staff account asks; the API decides what it may see (a regulator gets "not found").
  C.ready().then((account) => account && load());
})();
