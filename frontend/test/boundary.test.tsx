import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PanelBoundary } from "../src/components/PanelBoundary";
import { LanguageProvider } from "../src/i18n/language";

function Throws(): never {
  throw new Error("a bug in one panel");
}

afterEach(cleanup);

describe("a panel that fails to draw", () => {
  it("says so in its place while its neighbours still show", () => {
    // React reports the caught error on the console; that is expected here.
    const quiet = vi.spyOn(console, "error").mockImplementation(() => {});
    render(
      <LanguageProvider initial="en">
        <PanelBoundary name="pihole">
          <Throws />
        </PanelBoundary>
        <PanelBoundary name="pi">
          <p>the Pi is fine</p>
        </PanelBoundary>
      </LanguageProvider>,
    );
    quiet.mockRestore();
    expect(screen.getByText(/This panel could not be drawn/)).toBeTruthy();
    expect(screen.getByText("the Pi is fine")).toBeTruthy();
    expect(document.querySelector('[data-panel="pihole"]')?.getAttribute("data-state")).toBe("down");
  });
});
