// The reader's language: the browser's first choice of de/en, switchable, kept in localStorage
// (choose.ts). The provider starts with a dictionary already loaded; a switch loads the other.
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import type { Lang } from "../format";
import { initialLanguage, loadDictionary, loadedDictionary, STORAGE_KEY } from "./choose";
import type { Dictionary } from "./en";

export { browserLanguage, STORAGE_KEY } from "./choose";

interface LanguageValue {
  lang: Lang;
  t: Dictionary;
  setLang: (lang: Lang) => void;
}

const LanguageContext = createContext<LanguageValue | null>(null);

function loaded(lang: Lang): Dictionary {
  const t = loadedDictionary(lang);
  if (!t) throw new Error(`the ${lang} dictionary is not loaded (choose.ts: loadDictionary)`);
  return t;
}

export function LanguageProvider({ children, initial }: { children: ReactNode; initial?: Lang }) {
  const [shown, setShown] = useState(() => {
    const lang = initial ?? initialLanguage();
    return { lang, t: loaded(lang) };
  });
  useEffect(() => {
    document.documentElement.lang = shown.lang;
  }, [shown.lang]);
  const value = useMemo<LanguageValue>(() => {
    const show = (lang: Lang, t: Dictionary) => {
      setShown({ lang, t });
      try {
        window.localStorage.setItem(STORAGE_KEY, lang);
      } catch {
        // not remembered, still switched
      }
    };
    return {
      ...shown,
      setLang: (next) => {
        const t = loadedDictionary(next);
        // Not loaded yet: its chunk first. Where it cannot be fetched the page stays as it is.
        if (t) show(next, t);
        else loadDictionary(next).then((d) => show(next, d), () => undefined);
      },
    };
  }, [shown]);
  return <LanguageContext.Provider value={value}>{children}</LanguageContext.Provider>;
}

export function useLanguage(): LanguageValue {
  const v = useContext(LanguageContext);
  if (!v) throw new Error("useLanguage outside LanguageProvider");
  return v;
}
