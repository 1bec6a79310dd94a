/* Evidence files: each chosen file is checked against the limits the evidence service publishes
   (GET /v1/evidence/limits: accepted types, size per kind, files per complaint) and refused at once if
   it breaks one; the others are uploaded one at a time with a progress bar each. A small file goes through the gateway
   (POST /v1/evidence, the file as the raw body); one above config.direct_upload_above_bytes (set when the pages know
   storage's origin) goes straight to object storage: declared with its SHA-256 (POST /v1/uploads), PUT to the
   presigned URL, completed (the gateway checks it and answers the same receipt). It goes as a multipart upload, a
   presigned PUT per part, config.upload_parts_at_once of them at a time: a dropped part is sent again a few times with
   growing pauses, then offered to the complainant to resume, which asks which parts storage holds already and sends
   only the others.
   The server checks everything again: this only spares a long upload that would be refused. */
(function () {
  "use strict";
  const { t, el, formatBytes, problemText } = window.GC;

  let published = null;

  // A dropped PUT to storage is sent again after these pauses (ms), then left for the complainant to resume.
  const RETRY_PAUSES_MS = [1000, 2000, 4000];

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /* Hex SHA-256 of a file, declared before its bytes go to storage (completion compares it with what arrived). */
  async function sha256(file) {
    const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  function parsed(text) {
    try {
      return JSON.parse(text);
    } catch (error) {
      return null;
    }
  }

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
     /v1/evidence, a file for a complaint still to be filed), uploadsPath (or a function) to start a presigned upload
     of a large file at (else /v1/uploads), headers() to send with it (a guest's access
     code), already() the files the complaint holds already, uploaded(receipt) called after each upload,
     attaches (the upload itself adds the file to a complaint: it leaves this list once uploaded, as it can
     no longer be removed here). */
  function Uploader(root, options) {
    const opts = Object.assign({ path: "/v1/evidence", uploadsPath: "/v1/uploads", headers: () => ({}), already: () => 0,
      uploaded: () => {} }, options || {});
    const directAbove = window.GC.config.direct_upload_above_bytes;
    // Parts of a multipart upload on their way at once (UPLOAD_PARTS_AT_ONCE in intake.web.pages, the one place).
    const partsAtOnce = Math.max(1, window.GC.config.upload_parts_at_once || 1);
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
      item.removed = true;
      item.xhrs.forEach((xhr) => xhr.abort());
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
      // xhrs: the requests on their way (several parts of a multipart upload at once), aborted if the file is removed.
      const item = { file, state: "waiting", receipt: null, xhrs: new Set(), claimed: rules ? claimed(file, rules) : null };
      item.progress = el("progress", { max: "100", value: "0", "aria-label": t("evidence.progress_label", { name: file.name }) });
      item.stateNode = el("span", { class: "file-state" });
      const removeButton = el("button", { type: "button", class: "link-button" },
        t("evidence.remove"), el("span", { class: "visually-hidden", text: " " + file.name }));
      removeButton.addEventListener("click", () => remove(item));
      item.removeButton = removeButton;
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

    const pathOf = (path) => (typeof path === "function" ? path() : path);

    function showProgress(item, loaded, total) {
      const percent = Math.round((loaded / total) * 100);
      item.progress.value = percent;
      item.stateNode.textContent = t("evidence.uploading", { percent });
    }

    /* One request with the upload's progress on the bar: resolves {status, body} once answered, or {dropped: true}
       when the connection failed (or {aborted: true} when the file was removed meanwhile). */
    function transfer(item, method, url, headers, body, progress) {
      return new Promise((done) => {
        const xhr = new XMLHttpRequest();
        item.xhrs.add(xhr);
        xhr.upload.addEventListener("progress", (event) => {
          if (event.lengthComputable) {
            (progress || ((loaded, total) => showProgress(item, loaded, total)))(event.loaded, event.total);
          }
        });
        xhr.addEventListener("load", () => {
          item.xhrs.delete(xhr);
          done({ status: xhr.status, body: parsed(xhr.responseText), retryAfter: xhr.getResponseHeader("Retry-After") });
        });
        ["error", "abort", "timeout"].forEach((kind) => xhr.addEventListener(kind, () => {
          item.xhrs.delete(xhr);
          done(kind === "abort" ? { aborted: true } : { dropped: true });
        }));
        xhr.open(method, url);
        Object.entries(headers).forEach(([name, value]) => xhr.setRequestHeader(name, value));
        xhr.send(body);
      });
    }

    function succeeded(item, receipt) {
      item.receipt = receipt;
      item.ticket = null;
      item.progress.value = 100;
      setState(item, "uploaded", t("evidence.uploaded"));
      announce(t("evidence.uploaded_name", { name: item.file.name }));
      if (opts.attaches) {
        items.splice(items.indexOf(item), 1);
        item.node.remove();
      }
      opts.uploaded(receipt);
    }

    /* The server's refusal, or a dropped connection, said at the file; resumable: a 继续上传 button. */
    function failed(item, answer, resumable) {
      let text = t("problem.network");
      if (!answer.dropped) {
        const wait = answer.status === 429 ? (answer.body || {}).retry_after_s || Number(answer.retryAfter) : 0;
        text = wait ? t("problem.rate_limited_wait", { seconds: wait }) : failure(item, answer.status, answer.body);
      }
      if (resumable) {
        const resume = el("button", { type: "button", class: "link-button", "data-resume": "" },
          t("evidence.resume"), el("span", { class: "visually-hidden", text: " " + item.file.name }));
        resume.addEventListener("click", () => {
          resume.remove();
          setState(item, "waiting", t("evidence.waiting"));
          queue.push(item);
          next();
          // The focus has to go somewhere once its button is gone: the file's other button.
          item.removeButton.focus({ preventScroll: true });
        });
        item.stateNode.after(resume);
      } else {
        // The bar showed the bytes sent, not a success: a refused file leaves no full green bar behind.
        item.progress.remove();
      }
      setState(item, "failed", text);
      announce(t("evidence.failed_name", { name: item.file.name, reason: text }));
    }

    /* Through the gateway: the file itself is the body (no multipart form to build and for the gateway to parse),
       its length known up front, its name in Content-Disposition (RFC 6266 with RFC 8187 encoding). */
    async function sendThrough(item) {
      setState(item, "uploading", t("evidence.uploading", { percent: 0 }));
      const answer = await transfer(item, "POST", pathOf(opts.path), {
        ...opts.headers(),
        Accept: "application/json",
        "Content-Type": item.file.type || "application/octet-stream",
        "Content-Disposition": "attachment; filename*=UTF-8''" + encodeFilename(item.file.name),
      }, item.file);
      if (answer.aborted) {
        return;
      }
      if (answer.status === 201 && answer.body) {
        succeeded(item, answer.body);
      } else {
        failed(item, answer, false);
      }
    }

    async function json(method, url, body) {
      const headers = { ...opts.headers(), Accept: "application/json" };
      if (body) {
        headers["Content-Type"] = "application/json";
      }
      try {
        const response = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
        return { status: response.status, body: parsed(await response.text()), retryAfter: response.headers.get("Retry-After") };
      } catch (error) {
        return { dropped: true };
      }
    }

    /* Straight to storage: declare (or keep the ticket of an upload being resumed while its URL is valid), PUT with
       retries, complete. */
    async function sendDirect(item) {
      if (!item.ticket || Date.parse(item.ticket.expires_at) <= Date.now()) {
        setState(item, "uploading", t("evidence.checking"));
        const declaration = {
          filename: item.file.name,
          media_type: item.file.type || (item.claimed ? item.claimed.media_type : "application/octet-stream"),
          size: item.file.size,
          sha256: await sha256(item.file),
          multipart: true,
        };
        const started = await json("POST", pathOf(opts.uploadsPath), declaration);
        if (item.removed) {
          return;
        }
        if (started.status !== 201 || !started.body) {
          failed(item, started, Boolean(started.dropped));
          return;
        }
        item.ticket = started.body;
        item.fresh = true;
      }
      if (item.ticket.parts) {
        if (!(await sendParts(item))) {
          return;
        }
        await complete(item);
        return;
      }
      for (let attempt = 0; ; attempt += 1) {
        setState(item, "uploading", t("evidence.uploading", { percent: 0 }));
        item.progress.value = 0;
        // Content-Length is the file's size (signed into the URL); the type is not signed and storage keeps none.
        const put = await transfer(item, item.ticket.method, item.ticket.url, {}, item.file);
        if (put.aborted || item.removed) {
          return;
        }
        if (put.status >= 200 && put.status < 300) {
          break;
        }
        const transient = put.dropped || put.status >= 500;
        if (!transient || attempt >= RETRY_PAUSES_MS.length) {
          // A refused PUT (an expired URL) needs a new declaration: resuming asks for one.
          if (!transient) {
            item.ticket = null;
          }
          failed(item, put.dropped ? put : { status: put.status, body: { code: "upload_link_refused" } }, true);
          return;
        }
        const pause = RETRY_PAUSES_MS[attempt];
        setState(item, "uploading", t("evidence.retrying", { seconds: pause / 1000 }));
        await sleep(pause);
        if (item.removed) {
          return;
        }
      }
      await complete(item);
    }

    async function complete(item) {
      item.stateNode.textContent = t("evidence.checking");
      const completed = await json("POST", item.ticket.links.complete);
      if (item.removed) {
        return;
      }
      if ((completed.status === 201 || completed.status === 200) && completed.body) {
        succeeded(item, completed.body);
      } else if (completed.status === 409 && completed.body && completed.body.code === "upload_not_received" && item.ticket.parts) {
        // A part storage does not hold after all: resuming sends it.
        failed(item, { status: 409, body: { code: "upload_parts_missing" } }, true);
      } else {
        // Refused after checking (the object is removed) or not answered: a new declaration either way.
        item.ticket = null;
        failed(item, completed, Boolean(completed.dropped));
      }
    }

    /* The parts of a multipart upload, partsAtOnce at a time, each retried after a dropped connection: all of them for
       a new ticket; on a resume only those storage does not hold (GET links.parts answers them with fresh URLs). Once a
       part has failed for good no other part starts (those on their way finish, so storage keeps them for the resume).
       The bar counts the bytes storage holds and those of the parts on their way. True once every part is stored. */
    async function sendParts(item) {
      let parts = item.ticket.parts;
      let stored = 0;
      if (!item.fresh) {
        setState(item, "uploading", t("evidence.checking"));
        const listed = await json("GET", item.ticket.links.parts);
        if (item.removed) {
          return false;
        }
        if (listed.status !== 200 || !listed.body) {
          // Expired or finished meanwhile: resuming declares the file anew.
          if (!listed.dropped) {
            item.ticket = null;
          }
          failed(item, listed, true);
          return false;
        }
        parts = listed.body.missing;
        stored = listed.body.stored.reduce((sum, part) => sum + part.size, 0);
      }
      item.fresh = false;
      const total = item.file.size;
      const offsets = {};
      item.ticket.parts.reduce((start, part) => { offsets[part.number] = start; return start + part.size; }, 0);
      const sending = new Map();  // part number -> its bytes sent so far, while on its way
      const shown = () => showProgress(item, stored + Array.from(sending.values()).reduce((sum, n) => sum + n, 0), total);
      const waiting = parts.slice();
      let refusal = null;  // the first part's failure for good: the file's

      /* One part, with its retries: true once storage holds it. */
      async function sendPart(part) {
        const body = item.file.slice(offsets[part.number], offsets[part.number] + part.size);
        for (let attempt = 0; ; attempt += 1) {
          sending.set(part.number, 0);
          const put = await transfer(item, "PUT", part.url, {}, body, (loaded) => {
            sending.set(part.number, loaded);
            shown();
          });
          sending.delete(part.number);
          if (put.aborted || item.removed) {
            return false;
          }
          if (put.status >= 200 && put.status < 300) {
            stored += part.size;
            shown();
            return true;
          }
          const transient = put.dropped || put.status >= 500;
          if (!transient || attempt >= RETRY_PAUSES_MS.length) {
            refusal = refusal || { put, transient };
            return false;
          }
          const pause = RETRY_PAUSES_MS[attempt];
          setState(item, "uploading", t("evidence.retrying", { seconds: pause / 1000 }));
          await sleep(pause);
          if (item.removed) {
            return false;
          }
        }
      }

      async function worker() {
        while (waiting.length && !refusal && !item.removed) {
          await sendPart(waiting.shift());
        }
      }

      shown();
      await Promise.all(Array.from({ length: Math.min(partsAtOnce, waiting.length) }, worker));
      if (item.removed) {
        return false;
      }
      if (refusal) {
        showProgress(item, stored, total);  // what storage holds, without the parts that did not arrive
        if (!refusal.transient) {
          item.ticket = null;  // a refused part URL (expired): resuming declares the file anew
        }
        const put = refusal.put;
        failed(item, put.dropped ? put : { status: put.status, body: { code: "upload_link_refused" } }, true);
        return false;
      }
      return true;
    }

    function send(item) {
      const direct = directAbove !== null && directAbove !== undefined && item.file.size > directAbove;
      // A page served without TLS off loopback has no crypto.subtle to hash with: the gateway takes the file then.
      const sending = direct && window.crypto && crypto.subtle ? sendDirect(item) : sendThrough(item);
      return sending.catch(() => {
        // The file could not be read (or hashed): said as a failure rather than left waiting.
        item.xhrs.clear();
        failed(item, { dropped: true }, false);
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
