import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/**
 * The x range: the data's, but at least two minutes wide (one run, or a burst
 * at one instant, would otherwise be drawn across uPlot's default of years).
 */
export function xRange(x: readonly number[]): [number, number] {
  if (x.length === 0) return [Date.now() / 1000 - 60, Date.now() / 1000 + 60];
  const [min, max] = [Math.min(...x), Math.max(...x)];
  return max - min < 120 ? [min - 60, max + 60] : [min, max];
}

export interface Series {
  label: string;
  color: string;
  values: Array<number | null>;
}

interface ChartProps {
  /** Accessible name: a chart is an image to a screen reader; the summary says what it shows. */
  title: string;
  summary: string;
  /** x values: epoch seconds. */
  x: number[];
  series: Series[];
  height?: number;
  /** Draw points only (a run per point), not lines. */
  points?: boolean;
  yLabel?: string;
}

/**
 * A uPlot chart, re-drawn in place when its data changes (uPlot is canvas
 * based and small, so a chart of 900 seconds × 7 series updates every second
 * without cost). Time on x is shown in the browser's zone.
 */
export function Chart({
  title,
  summary,
  x,
  series,
  height = 220,
  points = false,
  yLabel,
}: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => s.label).join('|');

  useEffect(() => {
    const element = host.current;
    if (!element) return undefined;
    const options: uPlot.Options = {
      width: Math.max(320, element.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: () => xRange(x) } },
      axes: [{}, { label: yLabel, size: 60 }],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          fill: points ? undefined : `${s.color}22`,
          width: points ? 0 : 1.5,
          points: { show: points, size: 6, fill: s.color },
          spanGaps: false,
        })),
      ],
    };
    plot.current = new uPlot(
      options,
      [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
      element,
    );
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(320, element.clientWidth), height }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // A new chart only when the series themselves change; data changes go through setData.
  }, [shape, height, points]);

  useEffect(() => {
    plot.current?.setData([x, ...series.map((s) => s.values)] as uPlot.AlignedData, false);
    const [min, max] = xRange(x);
    plot.current?.setScale('x', { min, max });
  }, [x, series]);

  return (
    <figure class="chart">
      <div ref={host} role="img" aria-label={`${title}: ${summary}`} />
      <figcaption class="sr-only">{summary}</figcaption>
    </figure>
  );
}
