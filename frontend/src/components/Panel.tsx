// The frame of every panel: its heading, its state (live, stale, down...) in words, and the
// content, which stays visible with its age when a source fails after it had data.
import type { ReactNode } from "react";
import type { Dictionary } from "../i18n/en";
import { useLanguage } from "../i18n/language";
import { formatUpdated } from "../format";
import type { PanelState } from "../panelState";
import { useNow } from "../hooks";

export function problemText(t: Dictionary, state: PanelState): string | null {
  if (state.kind === "upstream_down") return t.upstream[state.what];
  if (state.kind !== "down") return null;
  const kind = state.error?.kind;
  if (state.source === "prometheus") {
    if (kind === "starting") return t.source.prometheusStarting;
    if (kind === "busy") return t.source.prometheusBusy;
    if (kind === "refused") return t.source.prometheusRefused;
    if (kind === "bad_answer") return t.source.badAnswer;
    return t.source.prometheus;
  }
  if (state.source === "handshake") {
    if (kind === "refused") return t.source.handshakeRefused;
    return t.source.handshake;
  }
  return t.source.snapshot;
}

export function Panel(props: {
  id: string;
  title: string;
  state: PanelState;
  children: ReactNode;
  /** Content is there to show (also while a later refresh fails). */
  hasData: boolean;
  /** A text shown instead of the content when there is nothing to show (e.g. no snapshot). */
  empty?: string | undefined;
  wide?: boolean;
  /** The badge's word while live, when "live" would mislead (a snapshot is not live). */
  badge?: string;
}) {
  const { t, lang } = useLanguage();
  const now = useNow();
  const { state } = props;
  const problem = problemText(t, state);
  const updatedAt = "updatedAt" in state ? state.updatedAt : null;
  const badge =
    state.kind === "live"
      ? (props.badge ?? t.state.live)
      : state.kind === "loading"
        ? t.state.loading
        : state.kind === "stale"
          ? t.state.stale
          : t.state.down;
  const tone = state.kind === "live" ? "ok" : state.kind === "loading" ? "muted" : state.kind === "stale" ? "warn" : "bad";
  return (
    <section
      className={`panel${props.wide ? " panel-wide" : ""}`}
      aria-labelledby={`${props.id}-title`}
      aria-busy={state.kind === "loading"}
      data-panel={props.id}
      data-state={state.kind}
    >
      <header className="panel-head">
        <h2 id={`${props.id}-title`}>{props.title}</h2>
        <span className={`badge badge-${tone}`}>{badge}</span>
      </header>
      <div role="status" aria-live="polite" className="panel-notes">
        {problem && <p className="problem">{problem}</p>}
        {state.kind !== "live" && state.kind !== "loading" && updatedAt !== null && (
          <p className="age">{formatUpdated(t, lang, updatedAt, now)}</p>
        )}
      </div>
      {state.kind === "loading" ? (
        <p className="muted">{t.loading}</p>
      ) : props.hasData ? (
        props.children
      ) : props.empty ? (
        <p className="muted">{props.empty}</p>
      ) : null}
    </section>
  );
}

/** A label and its value; a missing value says so instead of showing 0. */
export function Stat(props: {
  label: string;
  value: string | null | undefined;
  detail?: ReactNode;
  big?: boolean;
  tone?: "ok" | "warn" | "bad" | undefined;
  live?: boolean;
}) {
  const { t } = useLanguage();
  const missing = props.value === null || props.value === undefined;
  return (
    <div className={`stat${props.big ? " stat-big" : ""}`}>
      <dt>{props.label}</dt>
      <dd
        className={`${missing ? "missing" : ""}${props.tone ? ` tone-${props.tone}` : ""}`}
        aria-live={props.live ? "polite" : undefined}
      >
        {missing ? t.missing : props.value}
        {props.detail && <span className="detail">{props.detail}</span>}
      </dd>
    </div>
  );
}
