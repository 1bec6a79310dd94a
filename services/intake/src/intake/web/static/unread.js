/* The menu's count of unread messages (站内信) for a signed-in complainant, on the "我的账号" link: a badge, with its
   meaning in words for screen readers. A page that marks messages read dispatches "gc:messages-read" on the
   document to refresh it. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, el, api, session } = GC;
  const link = document.querySelector("#site-nav a[href='/account']");

  async function refresh() {
    const old = link.querySelector("[data-unread]");
    if (!session.signedIn()) {
      if (old) {
        old.remove();
      }
      return;
    }
    const answer = await api("GET", "/v1/me/messages?limit=1");
    const count = answer.ok ? answer.body.unread || 0 : 0;
    const badge = count ? el("span", { class: "badge unread-count", "data-unread": String(count) },
      el("span", { "aria-hidden": "true", text: String(count) }),
      el("span", { class: "visually-hidden", text: t("messages.unread_count", { count }) })) : null;
    if (old) {
      old.remove();
    }
    if (badge) {
      link.append(" ", badge);
    }
  }

  if (link) {
    document.addEventListener("gc:messages-read", refresh);
    refresh();
  }
})();
