// The state of one panel, from what its sources last did: loading, live, stale or down.
// A panel with old data and a failing source still shows the old data, marked with its age.
import type { SourceError } from "./api/sourceError";

export type SourceName = "prometheus" | "handshake" | "snapshot";

export type PanelState =
  | { kind: "loading" }
  | { kind: "live"; updatedAt: number }
  | { kind: "stale"; updatedAt: number }
  | { kind: "down"; source: SourceName; error: SourceError | null; updatedAt: number | null }
  // The source answers, but what it measures does not (the plug, Pi-hole, node_exporter).
  | { kind: "upstream_down"; what: UpstreamName; updatedAt: number };

export type UpstreamName = "plug" | "pihole" | "exporter" | "node" | "handshake_scrape";

export interface SourceView {
  source: SourceName;
  /** ms since epoch of the last good answer; 0 when none yet. */
  dataUpdatedAt: number;
  /** ms since epoch of the last failure; 0 when none. */
  errorUpdatedAt: number;
  error: SourceError | null;
  refreshSeconds: number;
}

/** Data counts as stale after three refreshes without a good answer (and at least 30 s). */
export function staleAfterMs(refreshSeconds: number): number {
  return Math.max(30_000, 3 * refreshSeconds * 1000);
}

export function sourceState(view: SourceView, nowMs: number): PanelState {
  const hasData = view.dataUpdatedAt > 0;
  const failing = view.error !== null && view.errorUpdatedAt >= view.dataUpdatedAt;
  if (failing) {
    return {
      kind: "down",
      source: view.source,
      error: view.error,
      updatedAt: hasData ? view.dataUpdatedAt : null,
    };
  }
  if (!hasData) return { kind: "loading" };
  if (nowMs - view.dataUpdatedAt > staleAfterMs(view.refreshSeconds)) {
    return { kind: "stale", updatedAt: view.dataUpdatedAt };
  }
  return { kind: "live", updatedAt: view.dataUpdatedAt };
}

const RANK: Record<PanelState["kind"], number> = {
  live: 0,
  loading: 1,
  stale: 2,
  upstream_down: 3,
  down: 4,
};

/** A panel fed by several sources shows the worst of them. */
export function worstState(states: PanelState[]): PanelState {
  let worst: PanelState = { kind: "loading" };
  let rank = -1;
  for (const s of states) {
    if (RANK[s.kind] > rank) {
      worst = s;
      rank = RANK[s.kind];
    }
  }
  return worst;
}

/** Once a source answers, an upstream it reports down (e.g. ``pihole_up 0``) marks the panel. */
export function withUpstream(
  state: PanelState,
  upstreamDown: UpstreamName | null,
): PanelState {
  if (upstreamDown === null) return state;
  if (state.kind === "live" || state.kind === "stale") {
    return { kind: "upstream_down", what: upstreamDown, updatedAt: state.updatedAt };
  }
  return state;
}
