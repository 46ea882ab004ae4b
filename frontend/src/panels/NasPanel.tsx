// The NAS: its state and since when, where baluhost.local points, the last heartbeat, and the
// Wake button with the wake's progress and outcome.
import type { UseQueryResult } from "@tanstack/react-query";
import type { Dispatch } from "react";
import { isoToMs, postWake, type Status } from "../api/handshake";
import { asSourceError, type SourceError } from "../api/sourceError";
import { Panel, Stat } from "../components/Panel";
import { formatDuration, formatNumber } from "../format";
import { stateOf, useNow } from "../hooks";
import { useLanguage } from "../i18n/language";
import { OTHER_SOURCES } from "../queryPlan";
import { shownElapsed, type WakeEvent, type WakePhase } from "../wake";

const TONE = { online: "ok", shutting_down: "warn", offline: "muted", waking: "warn", unreachable: "bad" } as const;

export function NasPanel(props: {
  status: UseQueryResult<Status, SourceError>;
  wake: WakePhase;
  dispatch: Dispatch<WakeEvent>;
}) {
  const { t, lang } = useLanguage();
  const now = useNow();
  const { status, wake, dispatch } = props;
  const state = stateOf(status, "handshake", OTHER_SOURCES.status.refreshSeconds, now);
  const s = status.data;
  const dur = (seconds: number) => formatDuration(lang, seconds, t.units);

  async function press() {
    dispatch({ type: "press" });
    try {
      dispatch({ type: "answer", answer: await postWake(), now: Date.now() });
    } catch (err) {
      const e = asSourceError(err);
      dispatch(e.kind === "refused" ? { type: "refused", reason: e.message } : { type: "no_answer" });
    }
    await status.refetch();
  }

  const since = s ? isoToMs(s.since) : null;
  const hb = s?.heartbeat;
  const hbAt = hb ? isoToMs(hb.last_at) : null;
  const showButton = s !== undefined && s.nas_state !== "online" && s.nas_state !== "waking" && wake.kind !== "waking" && wake.kind !== "sending";

  return (
    <Panel id="nas" title={t.nas.title} state={state} hasData={s !== undefined}>
      {s && (
        <>
          <div className={`nas-state tone-${TONE[s.nas_state]}`}>
            <span className="dot" aria-hidden="true" />
            <div>
              <p className="nas-state-word" aria-live="polite">{t.nas.states[s.nas_state]}</p>
              {since !== null && (
                <p className="nas-state-since">{t.nas.stateSince[s.nas_state](dur((now - since) / 1000))}</p>
              )}
            </div>
          </div>
          {s.nas_state === "unreachable" && <p className="hint">{t.nas.unreachableHint}</p>}
          <dl className="stats">
            <Stat
              label={t.nas.dnsPoints(s.dns.hostname)}
              value={
                s.dns.target ? `${t.nas.dnsTarget[s.dns.target]}${s.dns.address ? ` (${s.dns.address})` : ""}` : (s.dns.address ?? t.unknown)
              }
              detail={s.dns.last_error ? t.nas.dnsError(s.dns.last_error) : s.dns.pending ? t.nas.dnsPending : null}
              tone={s.dns.last_error ? "bad" : undefined}
            />
            <Stat
              label={t.nas.heartbeat}
              value={hbAt !== null ? t.ago(dur((now - hbAt) / 1000)) : t.nas.never}
              detail={hb?.last_result === "ok" ? t.nas.heartbeatOk : hb?.last_result === "miss" ? t.nas.heartbeatMiss : null}
              tone={hb?.last_result === "miss" && s.nas_state === "online" ? "warn" : undefined}
            />
          </dl>
        </>
      )}
      <WakeProgress wake={wake} now={now} dispatch={dispatch} />
      {showButton && (
        <button type="button" className="button primary" onClick={() => void press()}>
          {t.nas.wake}
        </button>
      )}
    </Panel>
  );
}

function WakeProgress({ wake, now, dispatch }: { wake: WakePhase; now: number; dispatch: Dispatch<WakeEvent> }) {
  const { t, lang } = useLanguage();
  // A wake is counted in plain seconds, as its timeout is configured: "41 s of at most 90 s".
  const secs = (seconds: number) => `${formatNumber(lang, Math.round(seconds))} ${t.units.s}`;
  let text: string | null = null;
  let hint: string | null = null;
  let tone = "info";
  switch (wake.kind) {
    case "idle":
      return null;
    case "sending":
      text = t.nas.sending;
      break;
    case "waking": {
      const elapsed = shownElapsed(wake, now);
      return (
        <div className="wake" role="status">
          <p>{t.nas.waking(secs(elapsed), secs(wake.timeout))}</p>
          <progress max={wake.timeout} value={elapsed} aria-label={t.nas.states.waking} />
        </div>
      );
    }
    case "online":
      text = t.nas.onlineAfter(secs(wake.afterSeconds));
      tone = "ok";
      break;
    case "timed_out":
      text = t.nas.timedOut(secs(wake.timeout));
      hint = t.nas.timedOutHint;
      tone = "bad";
      break;
    case "already_online":
      text = t.nas.alreadyOnline;
      break;
    case "rate_limited":
      text = t.nas.rateLimited(secs(wake.retryAfterSeconds));
      tone = "warn";
      break;
    case "send_failed":
      text = t.nas.sendFailed(wake.error);
      tone = "bad";
      break;
    case "refused":
      text = t.nas.refused(wake.reason);
      tone = "bad";
      break;
    case "unreachable":
      text = t.nas.noAnswer;
      tone = "bad";
      break;
  }
  return (
    <div className={`wake wake-${tone}`} role="status">
      <p>{text}</p>
      {hint && <p className="hint">{hint}</p>}
      {wake.kind !== "sending" && (
        <button type="button" className="button small" onClick={() => dispatch({ type: "dismiss" })}>
          {t.nas.dismiss}
        </button>
      )}
    </div>
  );
}
