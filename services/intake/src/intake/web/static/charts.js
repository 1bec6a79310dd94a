/* Small charts drawn as inline SVG (no library, nothing inline for the CSP: colours come from app.css
   classes): columns for a series over time, horizontal bars for a breakdown. A chart is a picture named by
   its heading; the page puts its figures in a data table next to it for anyone who cannot see it.
   Charts are drawn at their container's width and drawn again when the width changes. Exposed as GC.Charts. */
(function () {
  "use strict";
  const GC = window.GC;
  const SVG = "http://www.w3.org/2000/svg";
  const numbers = new Intl.NumberFormat(GC.config.lang);

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attrs || {}).forEach(([name, value]) => {
      if (name === "text") {
        node.textContent = value;
      } else if (value !== null && value !== undefined) {
        node.setAttribute(name, String(value));
      }
    });
    children.flat().forEach((child) => child && node.append(child));
    return node;
  }

  /* A round upper bound for the axis: 1, 2 or 5 times a power of ten, at least the largest value. */
  function axisMax(values) {
    const largest = Math.max(1, ...values);
    const power = 10 ** Math.floor(Math.log10(largest));
    return [1, 2, 5, 10].map((step) => step * power).find((bound) => bound >= largest);
  }

  function frame(container, height, labelledBy) {
    const width = Math.max(280, Math.floor(container.clientWidth));
    return {
      width,
      node: svg("svg", { role: "img", "aria-labelledby": labelledBy, width, height, viewBox: `0 0 ${width} ${height}`, class: "chart-svg" }),
    };
  }

  /* Columns: rows [{label, value, text}] in order (e.g. months), with a light grid and the values above (an empty
     column has no bar to put one on; the table says 0). ``text``, when a row has it, is shown for its value:
     a withheld figure is drawn as no bar, labelled "<5". */
  function columns(container, rows, { labelledBy }) {
    const height = 240;
    const { width, node } = frame(container, height, labelledBy);
    const margin = { top: 22, right: 8, bottom: 30, left: 44 };
    const plotWidth = width - margin.left - margin.right;
    const plotHeight = height - margin.top - margin.bottom;
    const top = axisMax(rows.map((row) => row.value));
    const band = plotWidth / Math.max(rows.length, 1);
    const y = (value) => margin.top + plotHeight - (value / top) * plotHeight;
    [0, top / 2, top].forEach((tick) => {
      node.append(svg("line", { class: "grid", x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick) }),
        svg("text", { class: "tick", x: margin.left - 6, y: y(tick) + 4, "text-anchor": "end", text: numbers.format(tick) }));
    });
    const every = Math.ceil(36 / band); // a label every so many columns, so labels never overlap
    rows.forEach((row, index) => {
      const x = margin.left + index * band;
      const barWidth = Math.max(2, band * 0.7);
      node.append(svg("rect", { class: "bar", "data-value": row.value, x: x + (band - barWidth) / 2, y: y(row.value),
        width: barWidth, height: Math.max(0, y(0) - y(row.value)) }));
      if (band >= 24 && (row.value || row.text)) {
        node.append(svg("text", { class: "value", x: x + band / 2, y: y(row.value) - 5, "text-anchor": "middle",
          text: row.text || numbers.format(row.value) }));
      }
      if (index % every === 0) {
        node.append(svg("text", { class: "tick", x: x + band / 2, y: height - margin.bottom + 18, "text-anchor": "middle",
          text: row.short || row.label }));
      }
    });
    container.replaceChildren(node);
  }

  /* Horizontal bars, largest first: each row's name above its bar, the value at the bar's end. */
  function bars(container, rows, { labelledBy }) {
    const sorted = rows.slice().sort((a, b) => b.value - a.value);
    const rowHeight = 42;
    const height = sorted.length * rowHeight + 8;
    const { width, node } = frame(container, height, labelledBy);
    const valueRoom = 56;
    const top = axisMax(sorted.map((row) => row.value));
    sorted.forEach((row, index) => {
      const y = index * rowHeight + 4;
      const length = ((width - valueRoom) * row.value) / top;
      node.append(
        svg("text", { class: "label", x: 0, y: y + 14, text: row.label }),
        svg("rect", { class: "bar", "data-value": row.value, x: 0, y: y + 20, width: Math.max(1, length), height: 16 }),
        svg("text", { class: "value", x: length + 6, y: y + 33, text: row.text || numbers.format(row.value) }));
    });
    container.replaceChildren(node);
  }

  /* Draw now and again whenever the container's width changes. */
  function draw(container, kind, rows, options) {
    const render = () => (kind === "columns" ? columns : bars)(container, rows, options);
    render();
    let width = container.clientWidth;
    if (container.chartObserver) {
      container.chartObserver.disconnect();
    }
    container.chartObserver = new ResizeObserver(() => {
      if (container.clientWidth !== width) {
        width = container.clientWidth;
        render();
      }
    });
    container.chartObserver.observe(container);
  }

  GC.Charts = { draw };
})();
