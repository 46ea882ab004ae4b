// A thin bar of how full something is; its figures are in the text beside it.
export function Meter({ used, total }: { used: number; total: number }) {
  const ratio = total > 0 ? Math.min(1, Math.max(0, used / total)) : 0;
  const tone = ratio > 0.9 ? "bad" : ratio > 0.75 ? "warn" : "ok";
  return (
    <span className={`meter meter-${tone}`} aria-hidden="true">
      <span style={{ width: `${Math.round(ratio * 100)}%` }} />
    </span>
  );
}
