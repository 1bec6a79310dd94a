/* 意见建议: the feedback form (POST /v1/public/feedback). The checks the API makes come first here, each
   message at its field; a sent form gives way to a thank-you note, with no reference (nobody follows a
   feedback entry up by its id). */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, api } = GC;
  const form = document.getElementById("feedback-form");
  const status = form.querySelector(".form-status");
  const thanks = document.querySelector("[data-show='thanks']");
  const keyFor = GC.attempts();

  function value(name) {
    return form.elements.namedItem(name).value.trim();
  }

  function clientErrors() {
    const errors = GC.checkLengths(form).map((error) => (error.field === "topic" ? { field: "topic", type: "topic_missing" } : error));
    const flagged = new Set(errors.map((error) => error.field));
    [["email", GC.emailError(value("email"))], ["phone", GC.phoneError(value("phone"))]].forEach(([field, error]) => {
      if (error && !flagged.has(field)) {
        errors.push(Object.assign({ field }, error));
      }
    });
    const order = Array.from(form.querySelectorAll("[data-field]"), (node) => node.dataset.field);
    return errors.sort((a, b) => order.indexOf(a.field) - order.indexOf(b.field));
  }

  function body() {
    return { topic: value("topic"), text: value("text"), email: value("email") || null, phone: value("phone") || null };
  }

  let sending = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending || !GC.passes(form, clientErrors())) {
      return;
    }
    sending = true;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    GC.setStatus(status, t("feedback.sending"));
    try {
      const sent = body();
      const answer = await api("POST", "/v1/public/feedback", { json: sent, idempotencyKey: keyFor(sent) });
      GC.setStatus(status, "");
      if (!answer.ok) {
        GC.showProblem(form, answer.problem);
        return;
      }
      thanks.querySelector("[data-bind='thanks_text']").textContent = t("feedback.thanks_text");
      form.hidden = true;
      thanks.hidden = false;
      thanks.querySelector("h2").focus();
    } finally {
      sending = false;
      button.disabled = GC.waiting(form);
    }
  });

  thanks.querySelector("[data-action='another']").addEventListener("click", () => {
    form.reset();
    GC.clearErrors(form);
    thanks.hidden = true;
    form.hidden = false;
    form.elements.namedItem("topic").focus();
  });
})();
