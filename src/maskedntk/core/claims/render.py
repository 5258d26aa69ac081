"""Rendering of a claims table (one row per claim) as CSV, Markdown and self-contained HTML."""

from __future__ import annotations

import html
import math

import pandas as pd

from maskedntk.core.atomic import write_frame, write_text

from .stats import fmt_p

#: the columns of every claims table, whatever the study
COLUMNS = (
    "claim",
    "statement",
    "source",
    "experiment",
    "test",
    "n_units",
    "effect",
    "effect_label",
    "ci_low",
    "ci_high",
    "p_value",
    "min_p",
    "verdict",
    "note",
)

VERDICT_RULE = (
    'Verdict{level}: "reproduced" when the one-sided test in the claimed direction has p < alpha; '
    '"not reproduced" when the one-sided test in the opposite direction has p < alpha or the '
    'effect size points the other way; "inconclusive" otherwise (including a design whose smallest '
    'attainable p, the "min_p" column, is not below alpha); "not run" when the configuration has '
    "no such experiment."
)

#: verdict -> (Okabe-Ito colour for the border, light tint for the background, dark text
#: colour of the same hue with contrast >= 4.5 on the tint, symbol); colour-blind safe, and
#: the verdict is always written out as well
VERDICT_STYLE = {
    "reproduced": ("#009E73", "#dff3ec", "#00573f", "\u2714"),
    "not reproduced": ("#D55E00", "#fae3d4", "#8a3a00", "\u2718"),
    "inconclusive": ("#E69F00", "#fcf0d6", "#6b4800", "?"),
    "not run": ("#999999", "#efefef", "#444444", "\u2013"),
}

CSS = (
    "body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:14px;"
    "color:#222;margin:1em;line-height:1.35}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{border:1px solid #ccc;padding:5px 7px;vertical-align:top;text-align:left}"
    "th{background:#f2f2f2}"
    "td.num{text-align:right;white-space:nowrap}"
    "td.verdict{font-weight:bold;white-space:nowrap}"
    ".small{font-size:12px;color:#555}"
    "p.rule{font-size:13px;margin-top:.8em}"
    "ol{font-size:13px}"
)


def effect_text(r) -> str:
    """'0.61 [0.58, 0.63]' (effect and its interval), or 'n/a'."""
    eff = r["effect"]
    if not isinstance(eff, (int, float)) or not math.isfinite(eff):
        return "n/a"
    txt = f"{eff:.3g}"
    if math.isfinite(r["ci_low"]) and math.isfinite(r["ci_high"]):
        txt += f" [{r['ci_low']:.3g}, {r['ci_high']:.3g}]"
    return txt


def _md_cell(s) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _source(r) -> str:
    src = r.get("source", "")
    return "" if not isinstance(src, str) or not src else f" ({src})"


def render_claims(df: pd.DataFrame, *, title: str, alpha: float | None = None, footer: str = "") -> tuple[str, str]:
    """(Markdown, self-contained HTML) of a claims table: claim, statement (source), test, n,
    effect [CI], p, smallest attainable p, verdict, with the verdict rule, ``footer`` and the notes below."""
    rule = VERDICT_RULE.format(level="" if alpha is None else f" (alpha = {alpha:g})")
    if footer:
        rule += " " + footer
    ci = "" if alpha is None else f" ({100 * (1 - alpha):g}% CI)"
    md = [
        f"# {title}",
        "",
        f"| claim | statement (source) | test | n | effect{ci} | p (one-sided) | smallest attainable p | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    records = df.to_dict("records")
    notes = []
    for i, r in enumerate(records, 1):
        eff = effect_text(r)
        if r["effect_label"]:
            eff += f" ({r['effect_label']})"
        md.append(
            f"| `{r['claim']}` | {_md_cell(r['statement'] + _source(r))} | {_md_cell(r['test'] or '-')} | "
            f"{r['n_units']} | {_md_cell(eff)} | {fmt_p(r['p_value'])} | {fmt_p(r['min_p'])} | **{r['verdict']}** |"
        )
        if r["note"]:
            notes.append(f"{i}. `{r['claim']}`: {r['note']}")
    md += ["", rule, ""]
    if notes:
        md += ["Notes:", "", *notes, ""]
    markdown = "\n".join(md)

    e = html.escape
    rows = []
    for r in records:
        edge, bg, fg, mark = VERDICT_STYLE.get(r["verdict"], ("#000000", "#ffffff", "#000000", ""))
        rows.append(
            "<tr>"
            f"<td><code>{e(r['claim'])}</code><br><span class='small'>{e(str(r['experiment']))}</span></td>"
            f"<td>{e(r['statement'])}<br><span class='small'>{e(_source(r).strip(' ()'))}</span></td>"
            f"<td class='small'>{e(r['test'] or '-')}</td>"
            f"<td class='num'>{r['n_units']}</td>"
            f"<td class='num'>{e(effect_text(r))}<br><span class='small'>{e(r['effect_label'])}</span></td>"
            f"<td class='num'>{e(fmt_p(r['p_value']))}</td>"
            f"<td class='num'>{e(fmt_p(r['min_p']))}</td>"
            f"<td class='verdict' style='color:{fg};background:{bg};border-left:6px solid {edge}'>"
            f"{mark} {e(r['verdict'])}</td>"
            "</tr>"
        )
    note_items = "".join(f"<li><code>{e(r['claim'])}</code>: {e(r['note'])}</li>" for r in records if r["note"])
    page = (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{e(title)}</title>"
        f"<style>{CSS}</style></head><body>\n"
        f"<h2>{e(title)}</h2>\n"
        "<table><thead><tr><th>claim</th><th>statement (source)</th><th>test</th><th>n</th>"
        f"<th>effect{e(ci)}</th><th>p (one-sided)</th><th>smallest attainable p</th><th>verdict</th></tr>"
        "</thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody></table>\n"
        f"<p class='rule'>{e(rule)}</p>\n"
        + (f"<p><b>Notes</b></p><ul class='small'>{note_items}</ul>\n" if note_items else "")
        + "</body></html>\n"
    )
    return markdown, page


def write_claims(df: pd.DataFrame, out_csv, out_md, out_html, *, title: str, alpha: float, footer: str = "") -> None:
    """Write a claims table as CSV, Markdown and HTML, atomically.  ``df`` must have exactly
    the columns of :data:`COLUMNS`."""
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"claims table lacks columns {missing}; every claims table has {list(COLUMNS)}")
    df = df[list(COLUMNS)]
    md, page = render_claims(df, title=title, alpha=alpha, footer=footer)
    write_frame(out_csv, df)
    write_text(out_md, md)
    write_text(out_html, page)


def render_robustness(df: pd.DataFrame, *, title: str, protocols: dict[str, str], alpha: float) -> str:
    """Markdown of a claim x protocol table: each entry "verdict (effect; p)"; ``protocols``
    = {protocol: description}, in column order."""
    names = list(protocols)
    md = [f"# {title}", "", "| claim | " + " | ".join(f"`{p}`" for p in names) + " |", "|---|" + "---|" * len(names)]
    for claim, g in df.groupby("claim", sort=False):
        by = g.set_index("protocol")
        cells = []
        for p in names:
            if p not in by.index:
                cells.append("-")
                continue
            r = by.loc[p]
            eff = "n/a" if not math.isfinite(r["effect"]) else f"{r['effect']:.3g}"
            cells.append(f"**{r['verdict']}** ({eff}; p {fmt_p(r['p_value'])})")
        md.append(f"| `{claim}` | " + " | ".join(cells) + " |")
    md += ["", f"Each entry: verdict (effect; one-sided p) at alpha = {alpha:g}. Protocols:", ""]
    md += [f"* `{p}`: {d}" for p, d in protocols.items()]
    return "\n".join(md) + "\n"
