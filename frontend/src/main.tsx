// The entry script: small (no React), so every panel's first request leaves while the React
// chunk (root.tsx) is still loading and being parsed.
import { QueryClient } from "@tanstack/react-query";
import { initialLanguage, loadDictionary } from "./i18n/choose";
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

// React's chunk is asked for once the status has answered and the snapshot's request has left
// (a few ms on the Pi's LAN), or after STATUS_HEAD_START_MS: while the chunk is parsed nothing
// else runs, so a snapshot asked for after the status would otherwise wait behind it.
const STATUS_HEAD_START_MS = 250;
const started = prefetchFirstLoad(client);
const headStart = new Promise((resolve) => setTimeout(resolve, STATUS_HEAD_START_MS));

// The page's language and its dictionary (a chunk of its own) come with React's chunk.
const lang = initialLanguage();
const root = document.getElementById("root");
if (root) {
  void Promise.race([started, headStart])
    .then(() => Promise.all([import("./root"), loadDictionary(lang)]))
    .then(([{ mount }]) => mount(root, client, lang));
}
