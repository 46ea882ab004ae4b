// The one page: a header with the language switch, then the seven panels. Each panel polls its
// own sources and shows its own state; a failing source never blanks the page.
import { useEffect, useReducer } from "react";
import { PanelBoundary } from "./components/PanelBoundary";
import { useLanguage } from "./i18n/language";
import type { Lang } from "./format";
import { stateOf, useNow, useSnapshot, useStatus } from "./hooks";
import { InboxPanel } from "./panels/InboxPanel";
import { NasPanel } from "./panels/NasPanel";
import { PiholePanel } from "./panels/PiholePanel";
import { PiPanel } from "./panels/PiPanel";
import { PowerPanel } from "./panels/PowerPanel";
import { SnapshotPanel } from "./panels/SnapshotPanel";
import { UsagePanel } from "./panels/UsagePanel";
import { OTHER_SOURCES } from "./queryPlan";
import { wakeReducer } from "./wake";

export function App() {
  const { t, lang, setLang } = useLanguage();
  const now = useNow();
  const [wake, dispatch] = useReducer(wakeReducer, { kind: "idle" });
  const status = useStatus(wake.kind === "waking" || wake.kind === "sending");
  // Without the status (the handshake service down), the snapshot is asked for anyway: nginx
  // serves it from disk, so it stays readable while the service is away.
  const lastSnapshot = status.data ? status.data.last_snapshot : status.isError ? "unknown" : undefined;
  const snapshot = useSnapshot(lastSnapshot);

  useEffect(() => {
    if (status.data) dispatch({ type: "status", status: status.data, now: Date.now() });
  }, [status.data, status.dataUpdatedAt]);

  const statusState = stateOf(status, "handshake", OTHER_SOURCES.status.refreshSeconds, now);

  return (
    <>
      <a className="skip" href="#panels">
        {t.skipToContent}
      </a>
      <header className="top" role="banner">
        <div>
          <h1>{t.appTitle}</h1>
          <p className="subtle">{t.appSubtitle}</p>
        </div>
        <div className="lang" role="group" aria-label={t.language}>
          {(["de", "en"] as Lang[]).map((l) => (
            <button key={l} type="button" lang={l} aria-pressed={lang === l} onClick={() => setLang(l)}>
              {l === "de" ? "Deutsch" : "English"}
            </button>
          ))}
        </div>
      </header>
      <main id="panels" className="grid">
        <PanelBoundary name="nas">
          <NasPanel status={status} wake={wake} dispatch={dispatch} />
        </PanelBoundary>
        <PanelBoundary name="power">
          <PowerPanel />
        </PanelBoundary>
        <PanelBoundary name="usage">
          <UsagePanel />
        </PanelBoundary>
        <PanelBoundary name="inbox">
          <InboxPanel status={status} />
        </PanelBoundary>
        <PanelBoundary name="pihole">
          <PiholePanel />
        </PanelBoundary>
        <PanelBoundary name="snapshot">
          <SnapshotPanel snapshot={snapshot} statusState={statusState} lastSnapshot={lastSnapshot} />
        </PanelBoundary>
        <PanelBoundary name="pi">
          <PiPanel />
        </PanelBoundary>
      </main>
    </>
  );
}
