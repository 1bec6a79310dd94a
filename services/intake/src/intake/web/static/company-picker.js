/* A company field with suggestions from the directory (GET /v1/public/companies), as an ARIA 1.2
   combobox with a list box: typing asks the directory, arrow keys move through the suggestions, Enter
   chooses one, Escape closes the list. Free text still works when nothing is chosen. Used by the
   complaint form and the filters of the public results. Exposed as GC.CompanyPicker. */
(function () {
  "use strict";
  const GC = window.GC;
  const { t, el, api } = GC;

  function displayName(item) {
    return GC.config.lang === "en" ? item.name_en : item.name;
  }

  /* input: the combobox; its list box is #<id>-options and its confirmation #<id>-chosen. The chosen
     company's id is kept in input.dataset.companyId. options: noneText (what an empty answer says),
     onChoose(item) (told of each choice). */
  function CompanyPicker(input, options) {
    const { noneText, onChoose } = options || {};
    const list = document.getElementById(input.id + "-options");
    const chosen = document.getElementById(input.id + "-chosen");
    let suggestions = [];
    let active = -1;
    let asked = 0;
    let timer = null;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      active = index;
      Array.from(list.children).forEach((option, position) => {
        option.setAttribute("aria-selected", String(position === index));
      });
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", list.children[index].id);
        list.children[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function show(item) {
      input.value = displayName(item);
      input.dataset.companyId = item.id;
      chosen.textContent = t("company_picker.chosen", { name: displayName(item) });
    }

    function choose(index) {
      show(suggestions[index]);
      close();
      if (onChoose) {
        onChoose(suggestions[index]);
      }
    }

    async function suggest() {
      const text = input.value.trim();
      const ask = ++asked;
      if (!text) {
        close();
        return;
      }
      const answer = await api("GET", "/v1/public/companies?" + new URLSearchParams({ q: text, limit: "8" }));
      if (ask !== asked || !answer.ok || document.activeElement !== input) {
        return; // a newer question is on its way, the person moved on, or the directory is away: free text still works
      }
      suggestions = answer.body.items;
      list.replaceChildren(...suggestions.map((item, index) => {
        const extra = [].concat(item.aliases || [], item.apps || []).slice(0, 4).join(" · ");
        const option = el("li", { id: input.id + "-option-" + index, role: "option", "aria-selected": "false" },
          el("span", { class: "option-name", text: displayName(item) }),
          extra ? el("span", { class: "option-extra", text: extra }) : null);
        option.addEventListener("mousedown", (event) => {
          event.preventDefault(); // keep the focus in the input
          choose(index);
        });
        return option;
      }));
      if (!suggestions.length) {
        list.append(el("li", { role: "option", "aria-disabled": "true", "aria-selected": "false", class: "option-none",
          id: input.id + "-option-none", text: noneText || t("company_picker.none") }));
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      highlight(-1);
    }

    input.addEventListener("input", () => {
      delete input.dataset.companyId;
      chosen.textContent = "";
      clearTimeout(timer);
      timer = setTimeout(suggest, 200);
    });
    input.addEventListener("keydown", (event) => {
      const open = !list.hidden && suggestions.length > 0;
      if (event.key === "ArrowDown" && open) {
        event.preventDefault();
        highlight((active + 1) % suggestions.length);
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        highlight(active <= 0 ? suggestions.length - 1 : active - 1);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);

    return {
      /* Show a company chosen elsewhere (e.g. the page's address) as chosen. */
      show,
      companyId() {
        return input.dataset.companyId || "";
      },
    };
  }

  GC.CompanyPicker = CompanyPicker;
})();
