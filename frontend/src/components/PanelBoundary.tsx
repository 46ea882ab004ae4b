// A panel that fails to draw (a bug, or an answer no test foresaw) shows so in its own place;
// the other panels keep working.
import { Component, type ReactNode } from "react";
import { useLanguage } from "../i18n/language";

function Broken({ name }: { name: string }) {
  const { t } = useLanguage();
  return (
    <section className="panel" data-panel={name} data-state="down" aria-label={name}>
      <p className="problem">{t.panelFailed}</p>
    </section>
  );
}

export class PanelBoundary extends Component<{ name: string; children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  override render() {
    return this.state.failed ? <Broken name={this.props.name} /> : this.props.children;
  }
}
