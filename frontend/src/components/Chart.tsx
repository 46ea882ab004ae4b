// A uPlot line chart of a RangeData: one line per series, gaps where readings are missing.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Lang } from "../format";
import { formatAxisTime, formatNumber } from "../format";
import { toColumns, type RangeData } from "../range";

const PALETTE = ["--chart-1", "--chart-2", "--chart-3", "--chart-4"];

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export function Chart(props: {
  data: RangeData;
  label: string;
  seriesName: (labels: Record<string, string>) => string;
  unit: string;
  lang: Lang;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.data.series.map((s) => props.seriesName(s.labels)).join("|");
  const { lang, unit, data } = props;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const grid = cssVar("--grid", "#ddd");
    const text = cssVar("--muted", "#666");
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: props.height ?? 180,
      legend: { show: data.series.length > 1 },
      // Room on the right for the last time label, centred on its grid line at the edge.
      padding: [null, 32, null, null],
      cursor: { y: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(5, max * 1.15)] } },
      axes: [
        {
          stroke: text,
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          values: (_u, splits) => splits.map((s) => formatAxisTime(lang, s * 1000, data.windowSeconds)),
          space: 70,
        },
        {
          stroke: text,
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          size: 48,
          values: (_u, splits) => splits.map((s) => `${formatNumber(lang, s)} ${unit}`),
        },
      ],
      series: [
        {},
        ...data.series.map((s, i) => ({
          label: props.seriesName(s.labels),
          stroke: cssVar(PALETTE[i % PALETTE.length] ?? "--chart-1", "#2f7d6d"),
          fill: i === 0 ? cssVar("--chart-fill", "rgba(47,125,109,0.12)") : undefined,
          width: 2,
          spanGaps: false,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v === null ? "–" : `${formatNumber(lang, v, 1)} ${unit}`),
        })),
      ],
    };
    const u = new uPlot(opts, toColumns(data) as uPlot.AlignedData, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: opts.height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Rebuilt when the series, the window or the language change; new points only setData.
  }, [shape, data.windowSeconds, lang, unit]);

  useEffect(() => {
    plot.current?.setData(toColumns(data) as uPlot.AlignedData);
  }, [data]);

  return <div ref={box} className="chart" role="img" aria-label={props.label} />;
}
