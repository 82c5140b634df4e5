// A plain horizontal bar chart as SVG, drawn from the benchmark's own numbers (no chart library).

export interface Bar {
  label: string;
  value: number;
  kind: 'agent' | 'ceiling' | 'baseline' | 'stage';
  /** A target to mark on this bar, in the same unit. */
  target?: number;
}

const COLORS: Record<Bar['kind'], string> = { agent: '#2f6fb0', stage: '#7aa6d6', ceiling: '#9a9a9a', baseline: '#d08a2e' };
const LEGEND: Record<Bar['kind'], string> = {
  agent: 'logseal agent, end to end',
  stage: 'agent seal step alone, one thread',
  ceiling: 'raw node:crypto, one thread',
  baseline: 'official @alicloud/log client, unencrypted',
};

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Bars on a log10 axis: the crypto ceiling is an order of magnitude above the rest and would flatten them otherwise. */
export function barChartSvg(title: string, unit: string, bars: Bar[], footnotes: string[]): string {
  const labelWidth = 300, plotWidth = 520, barHeight = 22, gap = 8, top = 56;
  const legendKinds = [...new Set(bars.map((b) => b.kind))];
  const height = top + bars.length * (barHeight + gap) + 40 + (legendKinds.length + 1) * 18 + footnotes.length * 14 + 12;
  const width = labelWidth + plotWidth + 90;
  const values = bars.map((b) => b.value).filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values, ...bars.flatMap((b) => (b.target ? [b.target] : []))) / 2));
  // The axis ends at the first 1-2-5 step that leaves room for the longest bar's label.
  const steps = [1, 2, 5, 10];
  const top10 = 10 ** Math.floor(Math.log10(Math.max(...values) * 1.4));
  const hi = top10 * steps.find((m) => top10 * m >= Math.max(...values) * 1.4)!;
  const x = (v: number): number => labelWidth + (plotWidth * (Math.log10(Math.max(v, lo)) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`);
  out.push(`<text x="${width / 2}" y="40" text-anchor="middle" fill="#555">${escape(unit)} (log scale)</text>`);
  const axisBottom = top + bars.length * (barHeight + gap);
  for (let decade = lo; decade <= hi; decade *= 10) {
    for (const m of [1, 2, 5]) {
      const v = decade * m;
      if (v > hi) break;
      const gx = x(v);
      out.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${axisBottom}" stroke="${m === 1 ? '#ccc' : '#eee'}"/>`);
      out.push(`<text x="${gx}" y="${axisBottom + 14}" text-anchor="middle" fill="#555" font-size="10">${v}</text>`);
    }
  }
  bars.forEach((b, i) => {
    const y = top + i * (barHeight + gap);
    out.push(`<text x="${labelWidth - 8}" y="${y + barHeight / 2 + 4}" text-anchor="end">${escape(b.label)}</text>`);
    out.push(`<rect x="${labelWidth}" y="${y}" width="${Math.max(1, x(b.value) - labelWidth)}" height="${barHeight}" fill="${COLORS[b.kind]}"/>`);
    // A target marker just past the bar's end would cross its label: the label then goes after the marker.
    const labelX = b.target && b.target > b.value && x(b.target) - x(b.value) < 40 ? x(b.target) + 5 : x(b.value) + 5;
    out.push(`<text x="${labelX}" y="${y + barHeight / 2 + 4}">${b.value >= 100 ? b.value.toFixed(0) : b.value.toFixed(1)}</text>`);
    if (b.target) {
      const tx = x(b.target);
      out.push(`<line x1="${tx}" y1="${y - 2}" x2="${tx}" y2="${y + barHeight + 2}" stroke="#c0392b" stroke-width="2" stroke-dasharray="3,2"/>`);
    }
  });
  let ly = axisBottom + 36;
  for (const kind of legendKinds) {
    out.push(`<rect x="${labelWidth}" y="${ly - 10}" width="12" height="12" fill="${COLORS[kind]}"/>`);
    out.push(`<text x="${labelWidth + 18}" y="${ly}">${escape(LEGEND[kind])}</text>`);
    ly += 18;
  }
  if (bars.some((b) => b.target)) {
    out.push(`<line x1="${labelWidth + 2}" y1="${ly - 10}" x2="${labelWidth + 2}" y2="${ly + 2}" stroke="#c0392b" stroke-width="2" stroke-dasharray="3,2"/>`);
    out.push(`<text x="${labelWidth + 18}" y="${ly}">target</text>`);
    ly += 18;
  }
  footnotes.forEach((note, i) => {
    out.push(`<text x="8" y="${height - 8 - (footnotes.length - 1 - i) * 14}" fill="#777" font-size="10">${escape(note)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
