"""What a browser downloads before a Vite-built page shows: the scripts, module preloads and
stylesheets index.html names, every chunk those scripts import statically, and the chunks they
load lazily (Vite lists those in `__vite__mapDeps`: the chart, shown on the first view too),
each gzipped (level 9, as nginx's gzip_static files are); of chunks that are alternatives (one
per language) only the largest."""

from __future__ import annotations

import gzip
import posixpath
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

# Static imports in minified ES modules: `import{a}from"./x.js"`, `import"./y.js"`.
_STATIC_IMPORT = re.compile(
    r"""(?:\bimport|\bexport)\s*(?:[\w*{}\s,$]*?\bfrom\s*)?["']([^"']+\.js)["']"""
)

# Vite's list of lazily loaded chunks and their CSS: `m.f=["assets/Chart-x.js","assets/y.css"]`.
_LAZY_DEPS = re.compile(r"""\bm\.f=\[([^\]]*)\]""")
# A lazily imported chunk without CSS of its own: import(`./root-x.js`).
_DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*["'`]([^"'`]+\.js)["'`]\s*\)""")
_QUOTED_ASSET = re.compile(r"""["']([^"']+\.(?:js|css))["']""")


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.found.append(a["src"] or "")
        rel = (a.get("rel") or "").split()
        if tag == "link" and a.get("href") and ({"stylesheet", "modulepreload"} & set(rel)):
            self.found.append(a["href"] or "")


@dataclass(frozen=True)
class FirstLoad:
    files: dict[str, int]  # path in the build -> gzip bytes

    @property
    def js_gzip(self) -> int:
        return sum(n for f, n in self.files.items() if f.endswith(".js"))

    @property
    def css_gzip(self) -> int:
        return sum(n for f, n in self.files.items() if f.endswith(".css"))

    @property
    def total_gzip(self) -> int:
        return self.js_gzip + self.css_gzip


def gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def first_load(dist: Path, alternatives: tuple[tuple[str, ...], ...] = ()) -> FirstLoad:
    """``alternatives``: groups of chunk name prefixes of which a page loads one, never several
    (one dictionary per language): of each group only the largest chunk counts."""
    parser = _Assets()
    parser.feed((dist / "index.html").read_text())
    todo = [p.lstrip("/") for p in parser.found if not p.startswith(("http:", "https:", "//"))]
    files: dict[str, int] = {}
    while todo:
        name = todo.pop()
        if name in files:
            continue
        data = (dist / name).read_bytes()
        files[name] = gzip_size(data)
        if name.endswith(".js"):
            here = posixpath.dirname(name)
            for imported in _STATIC_IMPORT.findall(data.decode("utf-8", "replace")):
                todo.append(posixpath.normpath(posixpath.join(here, imported)).lstrip("/"))
            for imported in _DYNAMIC_IMPORT.findall(data.decode("utf-8", "replace")):
                todo.append(posixpath.normpath(posixpath.join(here, imported)).lstrip("/"))
            for deps in _LAZY_DEPS.findall(data.decode("utf-8", "replace")):
                todo.extend(path.lstrip("/") for path in _QUOTED_ASSET.findall(deps))
    for group in alternatives:
        among = [f for f in files if posixpath.basename(f).startswith(group)]
        among.sort(key=lambda f: files[f])
        for name in among[:-1]:
            del files[name]
    return FirstLoad(files)
