// Durations as workflow authors write them (`30s`, `2h`, `1h30m`, `1d`). Units are mandatory: a bare
// number could mean seconds, minutes or milliseconds depending on which tool the author came from, so we
// refuse to guess. (The one exception, Zadig's approval timeout in minutes, is handled by the schema.)

const units = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

// Units must appear largest first and at most once, so `30m2h` and `1h1h` are refused rather than summed.
const durationPattern = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Milliseconds for `text`, or `undefined` when it is not a duration such as `45s`, `30m`, `1h30m` or `1d`. */
export function parseDuration(text: string): number | undefined {
  const match = durationPattern.exec(text.trim());
  if (!match || match[0] === '') return undefined;
  let total = 0;
  units.forEach(([, factor], index) => {
    const amount = match[index + 1];
    if (amount !== undefined) total += Number(amount) * factor;
  });
  return Number.isSafeInteger(total) ? total : undefined;
}

/** The shortest text `parseDuration` reads back as `ms`: `1h30m`, `45s`, `120ms`, `0s`. */
export function formatDuration(ms: number): string {
  if (ms < 0) return `-${formatDuration(-ms)}`;
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  let text = '';
  for (const [unit, factor] of units) {
    const amount = Math.floor(rest / factor);
    if (amount > 0) text += `${amount}${unit}`;
    rest -= amount * factor;
  }
  return text;
}
