// Small self-contained SVG charts for the scenario reports: grouped bars with labelled axes.
// No dependency; numbers only (the report's bigints are converted for drawing).

export interface BarSeries {
  readonly name: string;
  readonly values: readonly number[];
}

const COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"];

const xmlText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function niceStep(span: number): number {
  const raw = span / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  return step ?? magnitude * 10;
}

/** Grouped bars: one group per category, one bar per series; negative values go below zero. */
export function barChart(input: {
  readonly title: string;
  readonly unit: string;
  readonly categories: readonly string[];
  readonly series: readonly BarSeries[];
}): string {
  const width = 720;
  const height = 360;
  const left = 80;
  const right = 20;
  const top = 40;
  const bottom = 70;
  const all = input.series.flatMap((s) => s.values);
  const max = Math.max(0, ...all);
  const min = Math.min(0, ...all);
  const step = niceStep(max - min || 1);
  const hi = Math.ceil(max / step) * step || step;
  const lo = Math.floor(min / step) * step;
  const plotH = height - top - bottom;
  const plotW = width - left - right;
  const y = (v: number) => top + ((hi - v) / (hi - lo)) * plotH;
  const group = plotW / Math.max(1, input.categories.length);
  const bar = (group * 0.8) / Math.max(1, input.series.length);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${xmlText(input.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${xmlText(input.title)}</text>`,
  ];
  for (let v = lo; v <= hi + step / 2; v += step) {
    const yy = y(v).toFixed(1);
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${Number(v.toPrecision(6))}</text>`,
    );
  }
  parts.push(
    `<text x="16" y="${top + plotH / 2}" transform="rotate(-90 16 ${top + plotH / 2})" text-anchor="middle">${xmlText(input.unit)}</text>`,
  );
  for (const [c, category] of input.categories.entries()) {
    const x0 = left + c * group + group * 0.1;
    for (const [s, series] of input.series.entries()) {
      const v = series.values[c] ?? 0;
      const y1 = y(Math.max(v, 0));
      const h = Math.abs(y(v) - y(0));
      parts.push(
        `<rect x="${(x0 + s * bar).toFixed(1)}" y="${y1.toFixed(1)}" width="${(bar * 0.95).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLOURS[s % COLOURS.length]}"><title>${xmlText(`${series.name}, ${category}: ${v}`)}</title></rect>`,
      );
    }
    parts.push(
      `<text x="${(left + c * group + group / 2).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle">${xmlText(category)}</text>`,
    );
  }
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  for (const [s, series] of input.series.entries()) {
    const x = left + s * 150;
    parts.push(
      `<rect x="${x}" y="${height - 28}" width="12" height="12" fill="${COLOURS[s % COLOURS.length]}"/>`,
      `<text x="${x + 16}" y="${height - 18}">${xmlText(series.name)}</text>`,
    );
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
