// Numbers, sizes, durations and times in the reader's language, all through Intl.
import type { Dictionary } from "./i18n/en";

export type Lang = "de" | "en";

const numberFormats = new Map<string, Intl.NumberFormat>();
function nf(lang: Lang, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = lang + JSON.stringify(options);
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(lang, options);
    numberFormats.set(key, f);
  }
  return f;
}

export function formatNumber(lang: Lang, n: number, maxDigits = 0): string {
  return nf(lang, { maximumFractionDigits: maxDigits }).format(n);
}

/** Watts: one decimal below 100 W (a sleeping NAS draws 2.4 W), none above. */
export function formatWatts(lang: Lang, w: number): string {
  return `${nf(lang, { maximumFractionDigits: Math.abs(w) < 100 ? 1 : 0, minimumFractionDigits: Math.abs(w) < 100 ? 1 : 0 }).format(w)} W`;
}

export function formatKwh(lang: Lang, kwh: number): string {
  return `${nf(lang, { maximumFractionDigits: kwh < 10 ? 2 : 1 }).format(kwh)} kWh`;
}

export function formatMoney(lang: Lang, amount: number, currency: string): string {
  try {
    return nf(lang, { style: "currency", currency }).format(amount);
  } catch {
    return `${nf(lang, { maximumFractionDigits: 2, minimumFractionDigits: 2 }).format(amount)} ${currency}`;
  }
}

export function formatPercent(lang: Lang, ratio: number, maxDigits = 1): string {
  return nf(lang, { style: "percent", maximumFractionDigits: maxDigits }).format(ratio);
}

export function formatCelsius(lang: Lang, c: number): string {
  return `${nf(lang, { maximumFractionDigits: 1 }).format(c)} °C`;
}

const BYTE_UNITS = ["B", "kB", "MB", "GB", "TB", "PB"] as const;

/** Decimal units, as disks are sold (a "4 TB" disk shows 4 TB). */
export function formatBytes(lang: Lang, bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 ? 0 : value < 10 ? 1 : 0;
  return `${nf(lang, { maximumFractionDigits: digits }).format(value)} ${BYTE_UNITS[unit]}`;
}

/** "2 h 10 min", "3 d 4 h", "41 s": the two largest units, for people rather than machines. */
export function formatDuration(lang: Lang, seconds: number, units: Dictionary["units"]): string {
  const s = Math.max(0, Math.round(seconds));
  const n = (v: number) => formatNumber(lang, v);
  if (s < 60) return `${n(s)} ${units.s}`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) {
    const rest = s % 60;
    return minutes < 10 && rest ? `${n(minutes)} ${units.min} ${n(rest)} ${units.s}` : `${n(minutes)} ${units.min}`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const rest = minutes % 60;
    return rest ? `${n(hours)} ${units.h} ${n(rest)} ${units.min}` : `${n(hours)} ${units.h}`;
  }
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest ? `${n(days)} ${units.d} ${n(rest)} ${units.h}` : `${n(days)} ${units.d}`;
}

/** Hours with one decimal: "7,5 h" / "7.5 h". */
export function formatHours(lang: Lang, seconds: number, units: Dictionary["units"]): string {
  return `${nf(lang, { maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(seconds / 3600)} ${units.h}`;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();
function df(lang: Lang, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = lang + JSON.stringify(options);
  let f = dateFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(lang, options);
    dateFormats.set(key, f);
  }
  return f;
}

/** A moment: the time alone when it is today, date and time otherwise. */
export function formatWhen(lang: Lang, ms: number, now: number = Date.now()): string {
  const sameDay = new Date(ms).toDateString() === new Date(now).toDateString();
  return sameDay
    ? df(lang, { timeStyle: "short" }).format(ms)
    : df(lang, { dateStyle: "medium", timeStyle: "short" }).format(ms);
}

export function formatWeekday(lang: Lang, ms: number): string {
  return df(lang, { weekday: "short" }).format(ms);
}

export function formatAxisTime(lang: Lang, ms: number, windowSeconds: number): string {
  return windowSeconds <= 86400
    ? df(lang, { hour: "2-digit", minute: "2-digit" }).format(ms)
    : df(lang, { day: "numeric", month: "short" }).format(ms);
}

/** "updated 3 min ago" / "updated just now" (under 10 s). */
export function formatUpdated(dict: Dictionary, lang: Lang, updatedMs: number, now: number): string {
  const age = (now - updatedMs) / 1000;
  return age < 10 ? dict.updatedJustNow : dict.updatedAgo(formatDuration(lang, age, dict.units));
}
