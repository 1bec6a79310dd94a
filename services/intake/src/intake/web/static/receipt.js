/* The receipt after filing: the complaint number and the access code (kept in this tab only), the
   evidence receipts with their SHA-256, to print or to save as a text file. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, el } = GC;
  const number = new URLSearchParams(window.location.search).get("number") || "";
  const receipt = number ? GC.session.receipt(number) : null;
  const shown = document.querySelector("[data-receipt]");

  if (!receipt) {
    document.querySelector("[data-receipt-missing]").hidden = false;
    return;
  }
  shown.querySelector("[data-number]").textContent = receipt.number;
  shown.querySelector("[data-access-code]").textContent = receipt.access_code;
  shown.querySelector("[data-filed-at]").textContent = GC.formatDateTime(receipt.filed_at);
  shown.querySelector("[data-company]").textContent = receipt.company;
  shown.querySelector("[data-follow-link]").href = "/follow?" + new URLSearchParams({ number: receipt.number });
  if (receipt.evidence.length) {
    const section = shown.querySelector("[data-evidence]");
    section.hidden = false;
    // On a phone the hash shows its start and fades out (the whole value stays in the text, for selecting),
    // with a button that copies it; printed, it wraps in full.
    section.querySelector("tbody").replaceChildren(...receipt.evidence.map((item) => el("tr", {},
      el("td", { text: item.filename }), el("td", { class: "size", text: GC.formatBytes(item.size) }),
      el("td", { class: "hash-cell" }, el("code", { class: "hash", title: item.sha256, text: item.sha256 }), " ",
        el("button", { type: "button", class: "link-button no-print", "data-copy": item.sha256,
          "aria-label": t("receipt.copy_hash_of", { name: item.filename }), text: t("receipt.copy_hash") })))));
    section.addEventListener("click", async (event) => {
      const button = event.target.closest("[data-copy]");
      if (!button) {
        return;
      }
      try {
        await navigator.clipboard.writeText(button.dataset.copy);
        button.textContent = t("receipt.copied");
      } catch (error) {
        // No clipboard (an insecure origin, a refusal): select the value, so the system's copy takes it.
        window.getSelection().selectAllChildren(button.parentElement.querySelector("code"));
      }
    });
  }
  shown.querySelector("[data-site-address]").textContent = window.location.origin;
  shown.hidden = false;

  function receiptText() {
    const lines = [
      t("site.name"), t("receipt.heading"), "",
      t("receipt.number") + ": " + receipt.number,
      t("receipt.access_code") + ": " + receipt.access_code,
      t("receipt.filed_at") + ": " + GC.formatDateTime(receipt.filed_at),
      t("receipt.company") + ": " + receipt.company,
    ];
    receipt.evidence.forEach((item) => lines.push(t("receipt.file") + ": " + item.filename + "  SHA-256 " + item.sha256));
    lines.push("", t("receipt.access_code_hint"), window.location.origin + "/follow");
    return lines.join("\n") + "\n";
  }

  shown.querySelector("[data-action='print']").addEventListener("click", () => window.print());
  shown.querySelector("[data-action='save']").addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([receiptText()], { type: "text/plain;charset=utf-8" }));
    const link = el("a", { href: url, download: t("receipt.file_name", { number: receipt.number }) });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
})();
