import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { LanguageProvider } from "./i18n/language";
import { prefetchFirstLoad } from "./prefetch";
import "./styles.css";

// Polling, not retrying: every source is asked again at its own interval anyway, and a failed
// answer shows at once as the panel's state instead of after three hidden retries.
const client = new QueryClient({
  defaultOptions: {
    queries: {
      retry: false,
      refetchOnWindowFocus: true,
      refetchIntervalInBackground: false,
      staleTime: 0,
      gcTime: 10 * 60_000,
    },
  },
});

prefetchFirstLoad(client);

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={client}>
        <LanguageProvider>
          <App />
        </LanguageProvider>
      </QueryClientProvider>
    </StrictMode>,
  );
}
