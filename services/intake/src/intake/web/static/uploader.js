/* Evidence files: each chosen file is checked against the limits the evidence service publishes
   (GET /v1/evidence/limits: accepted types, size per kind, files per complaint) and refused at once if
   it breaks one; the others are uploaded one at a time (POST /v1/evidence, the file as the raw body) with a progress bar each.
   The server checks everything again: this only spares a long upload that would be refused. */
(function () {
  "use strict";
  const { t, el, formatBytes, problemText } = window.GC;

  let published = null;

  /* The published limits, fetched once per page; null when unavailable (the server still checks). */
  function limits() {
    if (!published) {
      published = fetch("/v1/evidence/limits", { headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : null))
        .catch(() => null);
    }
    return published;
  }

  /* RFC 8187 value characters: encodeURIComponent leaves ' ( ) * as they are, which the header may not carry. */
  function encodeFilename(name) {
    return encodeURIComponent(name).replace(/['()*]/g, (char) => "%" + char.charCodeAt(0).toString(16).toUpperCase());
  }

  function canonical(mediaType, rules) {
    const essence = (mediaType || "").split(";")[0].trim().toLowerCase();
    return rules.aliases[essence] || essence;
  }

  /* The accepted type a file claims to be (by its declared type, else its extension), or undefined. */
  function claimed(file, rules) {
    const declared = canonical(file.type, rules);
    const dot = file.name.lastIndexOf(".");
    const extension = dot >= 0 ? file.name.slice(dot).toLowerCase() : "";
    return declared && declared !== "application/octet-stream"
      ? rules.types.find((item) => item.media_type === declared)
      : rules.types.find((item) => item.extension === extension);
  }

  /* Why a file cannot be evidence ({type, params}), or null. */
  function refusal(file, rules, count) {
    if (count >= rules.max_files_per_complaint) {
      return { type: "too_many_evidence_files", params: { limit: rules.max_files_per_complaint } };
    }
    const accepted = claimed(file, rules);
    if (!accepted) {
      return { type: "unsupported_media_type", params: { name: file.name } };
    }
    if (file.size === 0) {
      return { type: "empty_evidence", params: { name: file.name } };
    }
    if (file.size > accepted.max_bytes) {
      return { type: "evidence_too_large", params: { name: file.name, limit: formatBytes(accepted.max_bytes) } };
    }
    return null;
  }

  function describeLimits(rules) {
    const kinds = ["image", "document", "audio", "video"].map((kind) => t("evidence.kind_limit", {
      kind: t("evidence.kind." + kind),
      types: rules.types.filter((item) => item.kind === kind).map((item) => item.extension.slice(1).toUpperCase()).join(", "),
      limit: formatBytes(rules.max_bytes[kind]),
    }));
    return t("evidence.limits", { kinds: kinds.join("; "), files: rules.max_files_per_complaint });
  }

  /* An uploader over one [data-uploader] block. options (all optional): path (or a function giving it) to POST each file to (else
     /v1/evidence, a file for a complaint still to be filed), headers() to send with it (a guest's access
     code), already() the files the complaint holds already, uploaded(receipt) called after each upload,
     attaches (the upload itself adds the file to a complaint: it leaves this list once uploaded, as it can
     no longer be removed here). */
  function Uploader(root, options) {
    const opts = Object.assign({ path: "/v1/evidence", headers: () => ({}), already: () => 0, uploaded: () => {} },
      options || {});
    const input = root.querySelector("input[type=file]");
    const list = root.querySelector(".file-list");
    const status = root.querySelector("[data-upload-status]");
    const items = [];
    const queue = [];
    let running = null;
    let idle = [];

    limits().then((rules) => {
      if (rules) {
        root.querySelector("[data-limits-text]").textContent = describeLimits(rules);
      }
    });

    function announce(text) {
      status.textContent = text;
    }

    function setState(item, state, text) {
      item.state = state;
      item.node.dataset.state = state;
      item.stateNode.textContent = text;
    }

    function remove(item) {
      if (item.xhr) {
        item.xhr.abort();
      }
      items.splice(items.indexOf(item), 1);
      const waiting = queue.indexOf(item);
      if (waiting >= 0) {
        queue.splice(waiting, 1);
      }
      item.node.remove();
      announce(t("evidence.removed", { name: item.file.name }));
      // The focus has to go somewhere once its button is gone: the file field, without scrolling up to it.
      input.focus({ preventScroll: true });
      settle();
    }

    /* What to say when the server refused a file: a file whose content is not what its name or type says (a
       program renamed .jpg) is named as such, with the type it claimed. */
    function failure(item, status, body) {
      const problem = Object.assign({ code: "http_" + status, status }, body || {});
      if (problem.code === "media_type_mismatch" && item.claimed) {
        return t("evidence.not_really", { name: item.file.name, type: item.claimed.extension.slice(1).toUpperCase() });
      }
      return problemText(problem);
    }

    function add(file, refused, rules) {
      const item = { file, state: "waiting", receipt: null, xhr: null, claimed: rules ? claimed(file, rules) : null };
      item.progress = el("progress", { max: "100", value: "0", "aria-label": t("evidence.progress_label", { name: file.name }) });
      item.stateNode = el("span", { class: "file-state" });
      const removeButton = el("button", { type: "button", class: "link-button" },
        t("evidence.remove"), el("span", { class: "visually-hidden", text: " " + file.name }));
      removeButton.addEventListener("click", () => remove(item));
      item.node = el("li", { class: "file-item" },
        el("span", { class: "file-name", text: file.name }),
        el("span", { class: "file-size", text: formatBytes(file.size) }),
        refused ? null : item.progress, item.stateNode, removeButton);
      list.append(item.node);
      items.push(item);
      if (refused) {
        const text = t("error." + refused.type, refused.params);
        setState(item, "refused", text);
        announce(text);
      } else {
        setState(item, "waiting", t("evidence.waiting"));
        queue.push(item);
      }
    }

    function settle() {
      if (running || queue.length) {
        return;
      }
      const waiting = idle;
      idle = [];
      waiting.forEach((resolve) => resolve());
    }

    function next() {
      if (running || !queue.length) {
        settle();
        return;
      }
      running = queue.shift();
      send(running).then(() => {
        running = null;
        next();
      });
    }

    function send(item) {
      return new Promise((resolve) => {
        const xhr = new XMLHttpRequest();
        item.xhr = xhr;
        setState(item, "uploading", t("evidence.uploading", { percent: 0 }));
        xhr.upload.addEventListener("progress", (event) => {
          if (event.lengthComputable) {
            const percent = Math.round((event.loaded / event.total) * 100);
            item.progress.value = percent;
            item.stateNode.textContent = t("evidence.uploading", { percent });
          }
        });
        xhr.addEventListener("load", () => {
          let body = null;
          try {
            body = JSON.parse(xhr.responseText);
          } catch (error) {
            body = null;
          }
          if (xhr.status === 201 && body) {
            item.receipt = body;
            item.progress.value = 100;
            setState(item, "uploaded", t("evidence.uploaded"));
            announce(t("evidence.uploaded_name", { name: item.file.name }));
            if (opts.attaches) {
              items.splice(items.indexOf(item), 1);
              item.node.remove();
            }
            opts.uploaded(body);
          } else {
            const wait = xhr.status === 429 ? (body || {}).retry_after_s || Number(xhr.getResponseHeader("Retry-After")) : 0;
            const text = wait ? t("problem.rate_limited_wait", { seconds: wait }) : failure(item, xhr.status, body);
            // The bar showed the bytes sent, not a success: a refused file leaves no full green bar behind.
            item.progress.remove();
            setState(item, "failed", text);
            announce(t("evidence.failed_name", { name: item.file.name, reason: text }));
          }
          item.xhr = null;
          resolve();
        });
        ["error", "abort", "timeout"].forEach((kind) => xhr.addEventListener(kind, () => {
          if (kind !== "abort") {
            item.progress.remove();
            setState(item, "failed", t("problem.network"));
          }
          item.xhr = null;
          resolve();
        }));
        /* The file itself is the body (no multipart form to build and for the gateway to parse), its
           length known up front, its name in Content-Disposition (RFC 6266 with RFC 8187 encoding). */
        xhr.open("POST", typeof opts.path === "function" ? opts.path() : opts.path);
        Object.entries(opts.headers()).forEach(([name, value]) => xhr.setRequestHeader(name, value));
        xhr.setRequestHeader("Accept", "application/json");
        xhr.setRequestHeader("Content-Type", item.file.type || "application/octet-stream");
        xhr.setRequestHeader("Content-Disposition", "attachment; filename*=UTF-8''" + encodeFilename(item.file.name));
        xhr.send(item.file);
      });
    }

    input.addEventListener("change", async () => {
      const files = Array.from(input.files);
      input.value = "";
      const rules = await limits();
      files.forEach((file) => {
        const counted = opts.already() + items.filter((item) => item.state !== "refused" && item.state !== "failed").length;
        add(file, rules ? refusal(file, rules, counted) : null, rules);
      });
      next();
    });

    return {
      busy: () => Boolean(running || queue.length),
      whenIdle: () => (running || queue.length ? new Promise((resolve) => idle.push(resolve)) : Promise.resolve()),
      receipts: () => items.filter((item) => item.state === "uploaded").map((item) => item.receipt),
      /* What to say when files in the list will not go with the complaint (refused here or by the server), else null:
         sending without a word would leave them out silently. */
      failedText: () => {
        const names = items.filter((item) => item.state === "refused" || item.state === "failed").map((item) => item.file.name);
        return names.length ? t("evidence.failed_listed", { names: names.join(window.GC.config.lang === "en" ? ", " : "、") }) : null;
      },
      reset: () => {
        items.slice().forEach((item) => item.node.remove());
        items.length = 0;
        queue.length = 0;
      },
    };
  }

  window.GC.Uploader = Uploader;
})();
