/* What the 公示 pages share: figures as the public reads them (rates as percentages, ratings out of 5,
   "none yet" when a figure has no denominator), a published result as a list entry, and forms whose
   fields are the page's address. Exposed as GC.Public. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, el } = GC;
  const lang = GC.config.lang;
  const english = lang === "en";

  const numbers = new Intl.NumberFormat(lang);
  const percents = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });
  const decimals = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const hundredths = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
  // Below 1, two significant digits: one complaint among hundreds of millions of users is 0.0013, not 0.
  const small = new Intl.NumberFormat(lang, { maximumSignificantDigits: 2 });

  function none(value) {
    return value === null || value === undefined;
  }

  /* A rate of the API (a fraction 0..1, or null when nothing was counted). */
  function rate(value) {
    return none(value) ? t("figures.none") : percents.format(value);
  }

  function count(value) {
    return none(value) ? t("figures.none") : numbers.format(value);
  }

  function rating(value) {
    return none(value) ? t("figures.none") : t("figures.rating", { value: decimals.format(value) });
  }

  /* Complaints per million users: null when the directory does not know the company's user base. */
  function perMillion(value) {
    if (value === null) {
      return t("figures.unknown");
    }
    return value > 0 && value < 1 ? small.format(value) : hundredths.format(value);
  }

  function days(value) {
    return none(value) ? t("figures.none") : t("figures.days", { value: decimals.format(value) });
  }

  /* A figure disclosure control withheld (null and named in the item's suppressed_fields: it counts fewer than
     minCount complaints, or would let a reader work such a figure out) shows as "<5"; any other as format
     shows it. */
  function shown(item, field, format, minCount) {
    return item[field] === null && (item.suppressed_fields || []).includes(field) ? "<" + minCount : format(item[field]);
  }

  /* The note that says what "<5" means, shown while some of the items have a figure withheld. */
  function suppressedNote(note, items, minCount) {
    if (!note) {
      return;
    }
    note.hidden = !items.some((item) => item && item.suppressed);
    note.textContent = note.hidden ? "" : t("figures.suppressed_note", { k: minCount });
  }

  function date(day) {
    return day ? GC.formatDate(day) : t("figures.none");
  }

  /* A company's name in the page's language: the directory's English name when it has one. */
  function companyName(item) {
    return (english && item.company_name_en) || item.company_name;
  }

  /* A name the API gives in both languages (``<field>_zh`` / ``<field>_en``), in the page's. */
  function label(item, field) {
    return (english ? item[field + "_en"] : item[field + "_zh"]) || item.key || "";
  }

  /* <dl> entries: [label, text, name] each; name becomes data-figure for the tests and the styles. */
  function figures(list, entries) {
    list.replaceChildren(...entries.map(([term, text, name]) =>
      el("div", { "data-figure": name || null }, el("dt", { text: term }), el("dd", { text }))));
    list.hidden = false;
  }

  function statusText(item) {
    return GC.tOr("status." + item.status, item.status);
  }

  function responseType(item) {
    return item.response_type ? GC.tOr("response_type." + item.response_type, item.response_type) : t("figures.none");
  }

  function timely(item) {
    if (none(item.timely)) {
      return t("figures.none");
    }
    return item.timely ? t("result.timely_yes") : t("result.timely_no");
  }

  function resultLink(number) {
    return "/public/results/" + encodeURIComponent(number);
  }

  /* 集体投诉 only for a cluster routing counts as collective; a smaller one is a group of similar complaints. */
  function clusterBadge(cluster) {
    return t(cluster.collective ? "result.cluster_size" : "result.similar_size", { size: cluster.size });
  }

  /* One published result (PublicSummary) as a compact entry of a results list: what it is about (its public
     title; the category when the complainant did not consent to publishing the text), then the status, and
     the number, company and facts on one wrapping line each. */
  function resultCard(item) {
    const category = english ? item.category_name_en : item.category_name_zh;
    // A record published before headlines were kept has none although its text is public: the category then.
    const heading = item.headline || (item.narrative_public ? category || item.category
      : t("result.untitled", { category: category || item.category }));
    return el("li", { class: "card result", "data-number": item.number },
      el("h3", {}, el("a", { href: resultLink(item.number), text: heading })),
      el("p", { class: "result-status" }, el("span", { class: "badge", text: statusText(item) }),
        item.cluster ? [" ", el("span", { class: "badge warning", text: clusterBadge(item.cluster) })] : null,
        " ", el("span", { class: "meta" }, el("span", { class: "nowrap", text: item.number }),
          " · " + [companyName(item), category || item.category, t("result.filed_on") + " " + date(item.filed_on)].join(" · "))),
      el("dl", { class: "facts compact" },
        [[t("result.response_type"), responseType(item)], [t("result.timely"), timely(item)],
          [t("result.rating"), rating(item.rating)], [t("result.published_on"), date(item.published_on)]]
          .map(([term, text]) => el("div", {}, el("dt", { text: term }), el("dd", { text })))));
  }

  /* The form's non-empty fields as a query, and the page's query back into the form. */
  function formQuery(form) {
    const query = new URLSearchParams();
    new FormData(form).forEach((value, name) => {
      if (String(value).trim()) {
        query.set(name, String(value).trim());
      }
    });
    return query;
  }

  function fillForm(form, query) {
    query.forEach((value, name) => {
      const control = form.elements.namedItem(name);
      if (control && "value" in control) {
        control.value = value;
      }
    });
  }

  /* Show or hide the [data-show=name] parts of a container. */
  function show(root, name, visible) {
    root.querySelectorAll("[data-show='" + name + "']").forEach((node) => {
      node.hidden = !visible;
    });
  }

  GC.Public = {
    rate, count, rating, perMillion, days, shown, suppressedNote, date, label, companyName, figures, statusText, responseType, timely, resultLink, resultCard,
    formQuery, fillForm, show,
  };
})();
