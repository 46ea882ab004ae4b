import { describe, expect, it } from "vitest";
import { de } from "../src/i18n/de";
import { en } from "../src/i18n/en";
import { browserLanguage } from "../src/i18n/language";

function shape(value: unknown): unknown {
  if (typeof value === "function") return "fn";
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]).sort());
  }
  return typeof value;
}

describe("the dictionaries", () => {
  it("have the same keys in German and English", () => {
    expect(shape(de)).toEqual(shape(en));
  });

  it("follow the browser's first de or en, else English", () => {
    expect(browserLanguage(["de-AT", "en"])).toBe("de");
    expect(browserLanguage(["fr-FR", "en-GB"])).toBe("en");
    expect(browserLanguage(["fr-FR"])).toBe("en");
  });

  it("say the NAS's sleep as the plan says it", () => {
    expect(de.nas.stateSince.offline("2 h 10 min")).toBe("schläft seit 2 h 10 min");
  });
});
