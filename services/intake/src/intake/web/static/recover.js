/* 忘记查询码？ on the follow page: the complaint number and the phone given at filing send a one-time code
   to that phone (the answer is the same whether or not they match, and the page says only what that answer
   means); the code gets a new access code, shown once here, and the old one stops working. The new code
   opens the complaint in the lookup form above; it is kept for this tab only, as codes typed there are. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, api, session } = GC;
  const panel = document.getElementById("recover");
  if (!panel) {
    return;
  }
  const ask = document.getElementById("recover-request");
  const confirm = document.getElementById("recover-confirm");
  const done = document.getElementById("recover-done");
  const lookup = document.getElementById("lookup-form");
  let asked = null; // {number, phone} the code was asked for
  // With a complaint open, the lookup and this panel step aside.
  document.addEventListener("gc:case", () => {
    panel.hidden = true;
  });

  function field(form, name) {
    return form.elements.namedItem(name).value.trim();
  }

  ask.addEventListener("submit", async (event) => {
    event.preventDefault();
    const errors = GC.checkLengths(ask);
    const phoneError = GC.phoneError(field(ask, "phone"));
    if (phoneError) {
      errors.push(Object.assign({ field: "phone" }, phoneError));
    }
    if (!GC.passes(ask, errors)) {
      return;
    }
    const number = field(ask, "number").toUpperCase();
    const phone = field(ask, "phone").replace(/[\s-]/g, "");
    const answer = await api("POST", "/v1/complaints/" + encodeURIComponent(number) + "/access-code/recovery",
      { json: { phone } });
    if (!answer.ok) {
      GC.showProblem(ask, answer.problem);
      return;
    }
    asked = { number, phone };
    GC.setStatus(ask.querySelector(".form-status"), t("recover.sent", { minutes: Math.round(answer.body.expires_in / 60) }));
    confirm.hidden = false;
    confirm.elements.namedItem("code").focus();
  });

  confirm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!GC.passes(confirm, GC.checkLengths(confirm))) {
      return;
    }
    const answer = await api("POST", "/v1/complaints/" + encodeURIComponent(asked.number)
      + "/access-code/recovery/confirm", { json: { phone: asked.phone, code: field(confirm, "code") } });
    if (!answer.ok) {
      GC.showProblem(confirm, answer.problem);
      return;
    }
    const code = answer.body.access_code;
    session.rememberAccessCode(asked.number, code);
    ask.hidden = true;
    confirm.hidden = true;
    done.hidden = false;
    const shown = done.querySelector("[data-new-access-code]");
    shown.textContent = code;
    shown.focus();
    lookup.elements.namedItem("number").value = asked.number;
    lookup.elements.namedItem("access_code").value = code;
  });
})();
