"""bench.first_load counts what index.html loads and what those scripts import, statically or
lazily (the dashboard's first view loads its lazy chunks too)."""

from __future__ import annotations

import gzip

from bench.first_load import first_load, gzip_size


def test_counts_scripts_preloads_styles_and_every_import(tmp_path):
    assets = tmp_path / "assets"
    assets.mkdir()
    (tmp_path / "index.html").write_text(
        '<script type="module" src="/assets/index.js"></script>'
        '<link rel="modulepreload" href="/assets/vendor.js">'
        '<link rel="stylesheet" href="/assets/index.css"><link rel="icon" href="/favicon.svg">'
    )
    (assets / "index.js").write_text('import{a}from"./shared.js";import("./lazy.js");a();')
    (assets / "vendor.js").write_text("export const v=1;" * 50)
    (assets / "shared.js").write_text(
        'import"./deep.js";const m={};m.f=["assets/chart.js","assets/chart.css"];'
        "export const a=()=>1;"
    )
    (assets / "chart.js").write_text("export const c=2;")
    (assets / "chart.css").write_text(".c{}")
    (assets / "deep.js").write_text("console.log(1)")
    (assets / "lazy.js").write_text("x" * 10_000)
    (assets / "index.css").write_text("body{margin:0}")
    load = first_load(tmp_path)
    assert sorted(load.files) == [
        "assets/chart.css", "assets/chart.js", "assets/deep.js", "assets/index.css",
        "assets/index.js", "assets/lazy.js", "assets/shared.js", "assets/vendor.js",
    ]  # fmt: skip
    assert "favicon.svg" not in load.files
    assert load.css_gzip == gzip_size(b"body{margin:0}") + gzip_size(b".c{}")
    assert load.total_gzip == load.js_gzip + load.css_gzip
    assert gzip_size(b"abc") == len(gzip.compress(b"abc", 9, mtime=0))


def test_of_alternative_chunks_only_the_largest_counts(tmp_path):
    # One dictionary per language: the page loads the one it shows.
    assets = tmp_path / "assets"
    assets.mkdir()
    (tmp_path / "index.html").write_text('<script type="module" src="/assets/index.js"></script>')
    (assets / "index.js").write_text('import("./de-1.js");import("./en-2.js");import("./x-3.js");')
    (assets / "de-1.js").write_text("export const de='" + "Strom " * 300 + "';")
    (assets / "en-2.js").write_text("export const en='power';")
    (assets / "x-3.js").write_text("export const x=1;")
    both = first_load(tmp_path)
    one = first_load(tmp_path, alternatives=(("de-", "en-"),))
    assert set(both.files) - set(one.files) == {"assets/en-2.js"}
    assert one.total_gzip == both.total_gzip - both.files["assets/en-2.js"]
