"""The dashboard's first load: JavaScript + CSS (gzip) a phone downloads before it shows,
against the 100 KB target and against BaluHost's own Pi build.

Run: .venv/bin/python -m bench.dashboard_size

BaluHost's figure cannot be measured in CI (building it needs its repository and ~500 npm
packages); it was measured once, with bench.first_load's same counting, and is kept below with
its provenance.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.first_load import first_load

REPO = Path(__file__).resolve().parents[1]
TARGET_BYTES = 100 * 1000

# BaluHost's Pi build (github.com/Xveyn/BaluHost, client/), counted by bench.first_load on the
# output of `npm ci --ignore-scripts && npx vite build --mode pi` (its `build:pi` without the
# `tsc -b` type check; its Vite 7.3.5), Node 20.20, npm 11.19, built in /tmp on 2026-12-01:
# index-*.js 148.1 KB + vendor-icons 151.3 KB + vendor-react 56.9 KB + vendor-i18n 20.5 KB +
# index-*.css 22.6 KB. Not counted: the chunks its routes load lazily after the login page
# (Dashboard 17 KB, vendor-charts 100 KB gzip), so the real gap is larger.
BALUHOST_FIRST_LOAD_GZIP = 399_275
BALUHOST_PROVENANCE = "commit 8da10dde, vite build --mode pi, measured 2026-12-01"


# One dictionary per language (frontend/src/i18n/choose.ts): a first load fetches the one it
# shows; the larger counts.
LANGUAGE_CHUNKS = ("de-", "en-")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=REPO / "frontend-dist")
    args = parser.parse_args()
    load = first_load(args.dist, alternatives=(LANGUAGE_CHUNKS,))
    kb = lambda n: f"{n / 1000:.1f} KB"  # noqa: E731 - one-line formatter
    print(f"dashboard first load ({args.dist.name}/index.html and what it imports), gzip -9:")
    for name, size in sorted(load.files.items()):
        print(f"  {name:<45} {kb(size):>10}")
    print(f"  JS {kb(load.js_gzip)} + CSS {kb(load.css_gzip)} = {kb(load.total_gzip)}")
    print(f"  target {kb(TARGET_BYTES)}: {load.total_gzip / TARGET_BYTES:.2f}x of the target")
    ratio = load.total_gzip / BALUHOST_FIRST_LOAD_GZIP
    print(
        f"  BaluHost's Pi build: {kb(BALUHOST_FIRST_LOAD_GZIP)} ({BALUHOST_PROVENANCE}); "
        f"ours is {ratio:.2f}x of it"
    )


if __name__ == "__main__":
    main()
