// The entry script: small (no React), so every panel's first request leaves while the React
// chunk (root.tsx) is still loading and being parsed.
import { QueryClient } from "@tanstack/react-query";
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
if (root) void import("./root").then(({ mount }) => mount(root, client));
