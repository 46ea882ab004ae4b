// React and the app, loaded by main.tsx after it has sent the first requests.
import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import type { Lang } from "./format";
import { LanguageProvider } from "./i18n/language";

export function mount(root: HTMLElement, client: QueryClient, lang: Lang): void {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={client}>
        <LanguageProvider initial={lang}>
          <App />
        </LanguageProvider>
      </QueryClientProvider>
    </StrictMode>,
  );
}
