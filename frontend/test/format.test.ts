import { describe, expect, it } from "vitest";
import { de } from "../src/i18n/de";
import { en } from "../src/i18n/en";
import {
  formatBytes,
  formatDuration,
  formatHours,
  formatKwh,
  formatMoney,
  formatNumber,
  formatPercent,
  formatUpdated,
  formatWatts,
} from "../src/format";

describe("durations a person reads", () => {
  it("says 2 h 10 min in both languages, days in each one's word", () => {
    expect(formatDuration("de", 2 * 3600 + 10 * 60 + 5, de.units)).toBe("2 h 10 min");
    expect(formatDuration("en", 2 * 3600 + 10 * 60, en.units)).toBe("2 h 10 min");
    expect(formatDuration("de", 3 * 86400 + 4 * 3600, de.units)).toBe("3 T 4 h");
    expect(formatDuration("en", 3 * 86400, en.units)).toBe("3 d");
  });

  it("counts seconds under a minute and minutes with seconds under ten minutes", () => {
    expect(formatDuration("en", 41, en.units)).toBe("41 s");
    expect(formatDuration("en", 90, en.units)).toBe("1 min 30 s");
    expect(formatDuration("en", 15 * 60 + 7, en.units)).toBe("15 min");
    expect(formatDuration("en", -5, en.units)).toBe("0 s");
  });

  it("puts it into the panel's age sentence", () => {
    const now = 1_000_000;
    expect(formatUpdated(en, "en", now - 180_000, now)).toBe("updated 3 min ago");
    expect(formatUpdated(de, "de", now - 180_000, now)).toBe("vor 3 min aktualisiert");
    expect(formatUpdated(en, "en", now - 2_000, now)).toBe("updated just now");
  });
});

describe("numbers through Intl", () => {
  it("uses each language's separators", () => {
    expect(formatNumber("de", 12345)).toBe("12.345");
    expect(formatNumber("en", 12345)).toBe("12,345");
    expect(formatWatts("de", 38.5)).toBe("38,5 W");
    expect(formatWatts("en", 2.4)).toBe("2.4 W");
    expect(formatWatts("en", 145.4)).toBe("145 W");
    expect(formatHours("de", 27000, de.units)).toBe("7,5 h");
    expect(formatKwh("de", 1.234)).toBe("1,23 kWh");
  });

  it("formats percent and money per language", () => {
    expect(formatPercent("en", 0.213)).toBe("21.3%");
    expect(formatPercent("de", 0.213)).toBe("21,3\u00a0%");
    expect(formatMoney("de", 1.5, "EUR")).toBe("1,50\u00a0€");
    expect(formatMoney("en", 1.5, "EUR")).toBe("€1.50");
    // A currency label Intl does not know still shows the amount.
    expect(formatMoney("en", 1.5, "not-a-currency")).toBe("1.50 not-a-currency");
  });

  it("sizes disks in decimal units as they are sold", () => {
    expect(formatBytes("en", 4e12)).toBe("4 TB");
    expect(formatBytes("de", 1_500_000)).toBe("1,5 MB");
    expect(formatBytes("en", 512)).toBe("512 B");
  });
});
