/** Small helpers shared by the report's sections: escaping and how numbers read. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe inside an element or a double-quoted attribute. */
export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/** `100,000`: counts are read at a glance. */
export function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** Seconds as `1h 2m 3s` (to the millisecond under a minute). */
export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds * 1000) / 1000}s`;
  const total = Math.round(seconds);
  const parts: Array<[number, string]> = [
    [Math.floor(total / 86400), 'd'],
    [Math.floor((total % 86400) / 3600), 'h'],
    [Math.floor((total % 3600) / 60), 'm'],
    [total % 60, 's'],
  ];
  // Zero parts are left out at both ends only: `1h 0m 32s` stays unambiguous.
  const first = parts.findIndex(([value]) => value > 0);
  let last = parts.length - 1;
  while (parts[last]![0] === 0) last -= 1;
  return parts.slice(first, last + 1).map(([value, unit]) => `${value}${unit}`).join(' ');
}

export function percent(share: number): string {
  return `${(Math.round(share * 1000) / 10).toFixed(1)}%`;
}

/** A figure shown in text and machine-readable: `data-field` names the `--json` field, `data-value` holds its value. */
export function figure(label: string, field: string, value: number | string | null, shown: string): string {
  const raw = value === null ? 'null' : String(value);
  return `<div class="figure"><dt>${esc(label)}</dt><dd data-field="${esc(field)}" data-value="${esc(raw)}">${esc(shown)}</dd></div>`;
}
