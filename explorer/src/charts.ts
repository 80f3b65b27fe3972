// Charts as inline SVG built element by element (dom.ts `s`), no chart library: a few hundred
// bytes of code per chart and nothing to parse. Values arrive as the RPC's decimal strings;
// they are turned into numbers only to place marks, and every label shows the exact string.
import { type Child, h, s } from "./dom.js";
import { grouped } from "./format.js";

const W = 640;
const H = 260;
const PAD = { left: 64, right: 16, top: 28, bottom: 40 };

interface Scale {
  readonly min: number;
  readonly max: number;
}

function scale(values: readonly number[]): Scale {
  const min = Math.min(0, ...values);
  const max = Math.max(1, ...values);
  return { min, max: max === min ? min + 1 : max };
}

const xOf = (v: number, sc: Scale) =>
  PAD.left + ((v - sc.min) / (sc.max - sc.min)) * (W - PAD.left - PAD.right);
const yOf = (v: number, sc: Scale) =>
  H - PAD.bottom - ((v - sc.min) / (sc.max - sc.min)) * (H - PAD.top - PAD.bottom);

function frame(label: string, ...marks: Child[]): SVGSVGElement {
  return s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label, class: "chart" },
    s("title", {}, label),
    ...marks,
  );
}

function axes(x: Scale, y: Scale, xLabel: string, yLabel: string): SVGGElement {
  const ticks = [y.min, (y.min + y.max) / 2, y.max];
  return s(
    "g",
    { class: "axes" },
    s("line", { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom }),
    s("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom }),
    ...ticks.map((t) =>
      s(
        "text",
        { x: PAD.left - 6, y: yOf(t, y) + 4, "text-anchor": "end" },
        grouped(String(Math.round(t))),
      ),
    ),
    s(
      "text",
      { x: PAD.left, y: H - 22, "text-anchor": "middle" },
      grouped(String(Math.round(x.min))),
    ),
    s(
      "text",
      { x: W - PAD.right, y: H - 22, "text-anchor": "end" },
      grouped(String(Math.round(x.max))),
    ),
    s("text", { x: (W + PAD.left) / 2, y: H - 6, "text-anchor": "middle" }, xLabel),
    s("text", { x: PAD.left, y: PAD.top - 12, "text-anchor": "middle" }, yLabel),
  );
}

function legend(items: readonly (readonly [string, string])[]): HTMLElement {
  return h(
    "ul",
    { class: "legend" },
    ...items.map(([cls, text]) => h("li", {}, h("span", { class: `swatch ${cls}` }), text)),
  );
}

/** Cap against consumption so far: two bars on one scale, labelled with the exact values. */
export function capChart(cap: string, consumption: string): HTMLElement {
  const c = Number(cap);
  const u = Number(consumption);
  const max = Math.max(c, u, 1);
  const bar = (cls: string, value: number, y: number, label: string) => [
    s("rect", {
      class: cls,
      x: 120,
      y,
      height: 28,
      width: Math.max(0, (value / max) * (W - 140 - PAD.right)),
    }),
    s("text", { x: 112, y: y + 19, "text-anchor": "end" }, label),
  ];
  const over = u > c;
  const label = `Cap ${grouped(cap)} Wh, consumption ${grouped(consumption)} Wh`;
  return h(
    "figure",
    {},
    s(
      "svg",
      { viewBox: `0 0 ${W} 90`, role: "img", "aria-label": label, class: "chart" },
      s("title", {}, label),
      ...bar("cap", c, 10, "cap"),
      ...bar(over ? "over" : "use", u, 50, "consumption"),
    ),
    h("figcaption", {}, label, over ? " (over the cap)" : " (under the cap)"),
  );
}

export interface PricePoint {
  readonly price: string;
  readonly qty: string;
}

/** An auction's step curves (cumulative, ascending by price) and its clearing point. */
export function curvesChart(
  demand: readonly PricePoint[],
  supply: readonly PricePoint[],
  clearing: { readonly price: string | null; readonly volume: string },
): HTMLElement {
  const prices = [...demand, ...supply].map((p) => Number(p.price));
  const qtys = [...demand, ...supply].map((p) => Number(p.qty));
  const x = scale(qtys);
  const y = scale([...prices, Math.max(...prices, 1) * 1.1]);
  const polyline = (cls: string, coords: readonly (readonly [number, number])[]) =>
    s("polyline", {
      class: cls,
      fill: "none",
      points: coords.map(([q, p]) => `${xOf(q, x)},${yOf(p, y)}`).join(" "),
    });
  // Demand D(p) = q_i for p in (p_{i-1}, p_i], 0 above the last price: a staircase that steps
  // left as the price rises. Supply S(p) = q_i for p in [p_i, p_{i+1}), 0 below the first price:
  // a staircase that steps right.
  const demandCoords: [number, number][] = [];
  let from = y.min;
  for (const point of demand) {
    const q = Number(point.qty);
    demandCoords.push([q, from], [q, Number(point.price)]);
    from = Number(point.price);
  }
  if (demand.length > 0) demandCoords.push([0, from]);
  const supplyCoords: [number, number][] = [];
  for (const [i, point] of supply.entries()) {
    const q = Number(point.qty);
    const p = Number(point.price);
    supplyCoords.push([i === 0 ? 0 : Number(supply[i - 1]!.qty), p], [q, p]);
  }
  const lastSupply = supply[supply.length - 1];
  if (lastSupply !== undefined) supplyCoords.push([Number(lastSupply.qty), y.max]);
  const marks: Child[] = [
    axes(x, y, "quantity (Wh)", "price (µ/Wh)"),
    polyline("demand", demandCoords),
    polyline("supply", supplyCoords),
  ];
  if (clearing.price !== null) {
    marks.push(
      s(
        "circle",
        {
          class: "clearing",
          cx: xOf(Number(clearing.volume), x),
          cy: yOf(Number(clearing.price), y),
          r: 6,
        },
        s("title", {}, `clearing: ${clearing.volume} Wh at ${clearing.price}`),
      ),
    );
  }
  const label =
    clearing.price === null
      ? "Supply and demand; no clearing price"
      : `Supply and demand; cleared ${grouped(clearing.volume)} Wh at ${clearing.price} µ/Wh`;
  return h(
    "figure",
    {},
    frame(label, ...marks),
    h("figcaption", {}, label),
    legend([
      ["demand", "demand D(p)"],
      ["supply", "supply S(p)"],
      ["clearing", "clearing point"],
    ]),
  );
}

/** Price by height, oldest on the left. */
export function priceChart(
  points: readonly { readonly height: string; readonly price: string }[],
): HTMLElement {
  const label = `Clearing price over ${points.length} auctions`;
  if (points.length === 0) return h("p", { class: "empty" }, "No price history yet.");
  const x = scale(points.map((p) => Number(p.height)));
  const xs = { min: Math.min(...points.map((p) => Number(p.height))), max: x.max };
  const xScale = xs.max === xs.min ? { min: xs.min - 1, max: xs.max + 1 } : xs;
  const y = scale(points.map((p) => Number(p.price)));
  const coords = points.map((p) => `${xOf(Number(p.height), xScale)},${yOf(Number(p.price), y)}`);
  return h(
    "figure",
    {},
    frame(
      label,
      axes(xScale, y, "height", "price (µ/Wh)"),
      s("polyline", { class: "price", points: coords.join(" "), fill: "none" }),
      ...points.map((p) =>
        s(
          "circle",
          {
            class: "price-dot",
            cx: xOf(Number(p.height), xScale),
            cy: yOf(Number(p.price), y),
            r: 3,
          },
          s("title", {}, `height ${p.height}: ${p.price}`),
        ),
      ),
    ),
    h("figcaption", {}, label),
  );
}
