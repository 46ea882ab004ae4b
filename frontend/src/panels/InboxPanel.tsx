// Share and inbox: the share disk's space (node_exporter), what waits in the inbox and for how
// long, the last move to the NAS, and "move now" while the NAS is online.
import type { UseQueryResult } from "@tanstack/react-query";
import { useState } from "react";
import { postFlush, type Status } from "../api/handshake";
import { jobUp, valueOf } from "../api/prometheus";
import type { SourceError } from "../api/sourceError";
import { Meter } from "../components/Meter";
import { Panel, Stat } from "../components/Panel";
import { formatBytes, formatDuration, formatNumber, formatWhen } from "../format";
import { stateOf, useInstant, useNow } from "../hooks";
import { useLanguage } from "../i18n/language";
import { withUpstream, worstState } from "../panelState";
import { OTHER_SOURCES, QUERIES, SHARE_PATH } from "../queryPlan";
import { filesystemOf, filesystems } from "./node";

type Move =
  | { kind: "idle" }
  | { kind: "moving" }
  | { kind: "done"; files: number } // every ready file went
  | { kind: "partial"; files: number } // some went, the rest waits (the report says why)
  | { kind: "failed" } // the flush ran and nothing went (the report says why)
  | { kind: "refused"; reason: string }; // no flush: the NAS is not online, or another runs

// The report's error joins rsync's and ssh's last lines with " | "; the first says what failed
// ("ssh to the NAS failed, ...: ssh: connect to host ...: Connection refused"), the rest
// repeats it in rsync's words.
function firstLine(error: string): string {
  return error.split(" | ")[0] ?? error;
}

export function InboxPanel({ status }: { status: UseQueryResult<Status, SourceError> }) {
  const { t, lang } = useLanguage();
  const now = useNow();
  // The share disk (node_exporter) and the oldest file's age come in the live request.
  const live = useInstant(QUERIES.live);
  const [move, setMove] = useState<Move>({ kind: "idle" });
  const nodeSamples = live.data ?? [];
  const state = worstState([
    stateOf(status, "handshake", OTHER_SOURCES.status.refreshSeconds, now),
    withUpstream(stateOf(live, "prometheus", QUERIES.live.refreshSeconds, now), live.data && jobUp(nodeSamples, "node") === false ? "node" : null),
  ]);
  const share = filesystemOf(filesystems(nodeSamples), SHARE_PATH);
  const s = status.data;
  const box = s?.inbox;
  const oldest = valueOf(nodeSamples, "balupi_inbox_oldest_file_age_seconds");
  const last = box?.last_flush ?? null;
  const dur = (x: number) => formatDuration(lang, x, t.units);
  const files = (n: number) => t.inbox.files(n, formatNumber(lang, n));
  const configured = box !== undefined && box.flush === undefined;

  async function moveNow() {
    setMove({ kind: "moving" });
    try {
      const answer = await postFlush();
      if (answer.kind === "refused") setMove({ kind: "refused", reason: answer.reason });
      else if (answer.report.result === "ok") setMove({ kind: "done", files: answer.report.moved_files });
      else if (answer.report.result === "partial") setMove({ kind: "partial", files: answer.report.moved_files });
      else setMove({ kind: "failed" });
    } catch {
      setMove({ kind: "refused", reason: t.source.handshake });
    }
    await status.refetch();
  }

  return (
    <Panel id="inbox" title={t.inbox.title} state={state} hasData={s !== undefined || live.data !== undefined}>
      <dl className="stats">
        <Stat
          label={t.inbox.shareDisk}
          value={share ? t.inbox.free(formatBytes(lang, share.availBytes)) : null}
          detail={
            share ? (
              <>
                {t.inbox.ofTotal(formatBytes(lang, share.sizeBytes))}
                <Meter used={share.sizeBytes - share.availBytes} total={share.sizeBytes} />
              </>
            ) : null
          }
        />
        <Stat
          label={t.inbox.waiting}
          value={box ? (box.files === 0 ? t.inbox.empty : t.inbox.waitingDetail(files(box.files), formatBytes(lang, box.bytes))) : null}
          detail={box && box.files > 0 && oldest != null ? t.inbox.oldest(dur(oldest)) : null}
          live
        />
        {configured && (
          <Stat
            label={t.inbox.lastFlush}
            value={last ? `${formatWhen(lang, last.started_at * 1000, now)} · ${t.inbox.result[last.result] ?? last.result}` : t.inbox.noFlush}
            detail={last ? t.inbox.moved(files(last.moved_files)) : null}
            tone={last ? (last.result === "ok" ? "ok" : last.result === "partial" ? "warn" : "bad") : undefined}
          />
        )}
      </dl>
      {configured && last?.error && (
        <p className="subtle why" title={last.error}>
          {t.inbox.why(firstLine(last.error))}
        </p>
      )}
      {box && !configured && <p className="subtle">{t.inbox.notConfigured}</p>}
      {configured && s?.nas_state === "online" && (
        <button type="button" className="button" disabled={move.kind === "moving" || box.flush_running} onClick={() => void moveNow()}>
          {move.kind === "moving" || box.flush_running ? t.inbox.moving : t.inbox.moveNow}
        </button>
      )}
      {configured && s && s.nas_state !== "online" && box.files > 0 && <p className="subtle">{t.inbox.moveOnlyOnline}</p>}
      <div role="status" aria-live="polite">
        {move.kind === "done" && <p className="note ok">{t.inbox.moveDone(files(move.files))}</p>}
        {move.kind === "partial" && <p className="note bad">{t.inbox.movePartial(files(move.files))}</p>}
        {move.kind === "failed" && <p className="note bad">{t.inbox.moveFailed}</p>}
        {move.kind === "refused" && <p className="note bad">{t.inbox.moveRefused(move.reason)}</p>}
      </div>
    </Panel>
  );
}
