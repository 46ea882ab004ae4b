// The reader's language: the browser's first choice of de/en, switchable, kept in localStorage.
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import type { Lang } from "../format";
import { de } from "./de";
import { en, type Dictionary } from "./en";

export const DICTIONARIES: Record<Lang, Dictionary> = { de, en };
export const STORAGE_KEY = "balupi.lang";

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

interface LanguageValue {
  lang: Lang;
  t: Dictionary;
  setLang: (lang: Lang) => void;
}

const LanguageContext = createContext<LanguageValue | null>(null);

export function LanguageProvider({ children, initial }: { children: ReactNode; initial?: Lang }) {
  const [lang, setLangState] = useState<Lang>(() => initial ?? initialLanguage());
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const value = useMemo<LanguageValue>(
    () => ({
      lang,
      t: DICTIONARIES[lang],
      setLang: (next) => {
        setLangState(next);
        try {
          window.localStorage.setItem(STORAGE_KEY, next);
        } catch {
          // not remembered, still switched
        }
      },
    }),
    [lang],
  );
  return <LanguageContext.Provider value={value}>{children}</LanguageContext.Provider>;
}

export function useLanguage(): LanguageValue {
  const v = useContext(LanguageContext);
  if (!v) throw new Error("useLanguage outside LanguageProvider");
  return v;
}
