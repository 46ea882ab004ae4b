// Which language the page shows, and its dictionary. Each language is a chunk of its own, so a
// first load fetches only the one it shows. No React here: the entry script (main.tsx) picks
// the language and loads its dictionary alongside React's chunk.
import type { Lang } from "../format";
import type { Dictionary } from "./en";

export const STORAGE_KEY = "balupi.lang";

const loaded: Partial<Record<Lang, Dictionary>> = {};

export function loadDictionary(lang: Lang): Promise<Dictionary> {
  const chunk = lang === "de" ? import("./de").then((m) => m.de) : import("./en").then((m) => m.en);
  return chunk.then((dictionary) => (loaded[lang] = dictionary));
}

/** The dictionary of ``lang`` once loadDictionary has loaded it. */
export function loadedDictionary(lang: Lang): Dictionary | undefined {
  return loaded[lang];
}

export function browserLanguage(languages: readonly string[]): Lang {
  for (const l of languages) {
    const base = l.toLowerCase().split("-")[0];
    if (base === "de" || base === "en") return base;
  }
  return "en";
}

function storedLanguage(): Lang | null {
  try {
    const v = window.localStorage.getItem(STORAGE_KEY);
    return v === "de" || v === "en" ? v : null;
  } catch {
    return null; // storage blocked (private mode): follow the browser
  }
}

export function initialLanguage(): Lang {
  return storedLanguage() ?? browserLanguage(navigator.languages?.length ? navigator.languages : [navigator.language]);
}
