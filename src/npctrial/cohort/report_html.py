"""Self-contained HTML report: tables, figures embedded as SVG, methods, software versions."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from npctrial.cohort.report import CohortReport
from npctrial.i18n import translator

_CSS = """
body{font-family:Helvetica,Arial,"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;max-width:1000px;margin:2em auto;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:0.5em 0 0.3em;font-size:0.85em}
th,td{border-top:1px solid #bbb;border-bottom:1px solid #bbb;padding:3px 8px;text-align:left}
th{background:#f0f3f7}caption{text-align:left;font-weight:bold;padding:0.3em 0}
.note{font-size:0.8em;color:#555;margin:0}.warn{color:#a04000}figure{margin:1.5em 0}
figcaption{font-size:0.9em;font-weight:bold}svg{max-width:100%;height:auto}
"""


def _list_section(heading: str, items: Sequence[str], *, intro: str = "", css: str = "") -> list[str]:
    """An h2 heading and a bulleted list (nothing when there are no items)."""
    if not items:
        return []
    e = html.escape
    cls = f' class="{css}"' if css else ""
    return [f"<h2>{e(heading)}</h2>{intro}<ul>", *(f"<li{cls}>{e(i)}</li>" for i in items), "</ul>"]


def render_html(report: CohortReport, figure_root: Path) -> str:
    """The report as one HTML document; SVG figures are read from ``figure_root`` and inlined."""
    e = html.escape
    tr = translator(report.language)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-Hans" if report.language == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{e(report.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(report.title)}</h1>",
    ]
    if report.source:
        parts.append(f"<p>{e(tr('Analyses after:'))} {e(report.source)}</p>")
    parts.append("<p>" + e(tr("Cohort file: %(file)s; %(rows)s rows read, %(analysed)s analysed.")).replace(
        "%(file)s", f"<code>{e(report.cohort_file)}</code>").replace("%(rows)s", str(report.n_rows)).replace(
        "%(analysed)s", str(report.n_analysed)) + "</p>")
    intro = ('<p>No study config was given; these guesses are in <code>study.inferred.yaml</code>: check them, edit '
             "the file and run again with --config.</p>")
    parts += _list_section(tr("Config inferred from the file"), report.inferred, intro=intro)
    parts += _list_section(tr("Data"), report.reading)
    parts.append(f"<h2>{e(tr('Methods'))}</h2>")
    parts.append(f"<p>{e(report.methods)}</p>")
    parts += _list_section(tr("Warnings"), report.warnings, css="warn")
    parts += _list_section(tr("Analyses not run"), report.omitted, css="warn")
    parts.append(f"<h2>{e(tr('Tables'))}</h2>")
    for t in report.tables:
        parts.append(f'<section id="{e(t.name)}">')
        table_html = t.frame.to_html(index=False, border=0, na_rep="", escape=True)
        table_html = table_html.replace('<table class="dataframe">', f"<table><caption>{e(t.title)}</caption>", 1)
        parts.append(table_html)
        parts += [f'<p class="note">{e(n)}</p>' for n in t.notes]
        parts.append("</section>")
    if report.figures:
        parts.append(f"<h2>{e(tr('Figures'))}</h2>")
    for f in report.figures:
        svg = (figure_root / f.svg).read_text("utf-8")
        svg = svg[svg.find("<svg"):]
        parts.append(f'<figure id="{e(f.name)}">{svg}<figcaption>{e(f.title)}</figcaption></figure>')
    if len(report.excluded):
        parts.append(f"<h2>{e(tr('Excluded rows'))}</h2>")
        parts.append(report.excluded.to_html(index=False, border=0, na_rep=""))
    parts.append(f"<h2>{e(tr('Software'))}</h2><ul>")
    parts += [f"<li>{e(k)} {e(v)}</li>" for k, v in report.software]
    parts.append("</ul></body></html>")
    return "\n".join(parts) + "\n"


def write_html(report: CohortReport, path: Path, figure_root: Path) -> Path:
    path.write_text(render_html(report, figure_root), encoding="utf-8")
    return path
