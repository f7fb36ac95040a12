"""One execution of a chapter: configuration at the start, claims and results at the end.

A chapter notebook calls :func:`start_chapter` right after its ``parameters`` cell,
which validates the parameters (before any training), applies the thread policy,
seeds everything and sets the plotting style, and :meth:`ChapterRun.finish` at the
end, which shows the claims table, glues every number the prose quotes, the claims
table and their at-a-glance figure and badges for the scorecard, and writes ``results.json``.
"""

from __future__ import annotations

import html
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from linstruct import __version__
from linstruct.book.glance import VERDICT_CLASS, badges_html, figure_html, forest_figure
from linstruct.book.plotting import set_style, unlabelled_axes
from linstruct.book.tables import show_table
from linstruct.core.claims import Baseline, Claim
from linstruct.core.parameters import Config
from linstruct.core.reproducibility import retain_freed_memory, seed_everything, select_device, set_threads
from linstruct.studies import get_chapter


def project_root(start: Path | None = None) -> Path | None:
    """The book's root folder (the one holding ``_toc.yml``) above ``start``, if any."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").exists() and (folder / "src" / "linstruct").exists():
            return folder
    return None


RUNS_ENV = "LINSTRUCT_RUNS_DIR"


def default_output_dir(chapter: str) -> Path:
    """``$LINSTRUCT_RUNS_DIR/<chapter>`` if set, else ``runs/<chapter>`` under the book's
    root (or under the working folder outside a clone of the book)."""
    runs = os.environ.get(RUNS_ENV)
    return Path(runs) / chapter if runs else (project_root() or Path.cwd()) / "runs" / chapter


@dataclass
class ChapterRun:
    """The state of one chapter execution."""

    chapter: str
    config: Config
    threads: int
    device: Any  # the torch.device every tensor of the run lives on (from the ``device`` parameter)
    started: float = field(default_factory=time.perf_counter)
    claims: list[Claim] = field(default_factory=list)  # set by :meth:`finish`

    def settings(self) -> pd.DataFrame:
        """The parameters this run used, one row each (``output_dir`` left out: a path is no
        setting of the computation): name, value ("–" for unset), where the value comes from
        ("profile", or "set for this run" where it differs from the profile's) and what it means."""
        spec = get_chapter(self.chapter)
        rows = []
        for p in spec.parameters:
            if p.name == "output_dir":
                continue
            value = self.config[p.name]
            profile_value = spec.default(p.name, self.config.profile)
            source = "–" if p.name == "profile" else "profile" if value == profile_value else "set for this run"
            rows.append((p.name, "–" if value is None else str(value), source, p.help))
        return pd.DataFrame(rows, columns=["parameter", "value", "from", "meaning"])

    def settings_table(self):
        """:meth:`settings` as a captioned HTML table for the top of the chapter."""
        caption = f"Settings of this run: profile {self.config.profile}, every value resolved"
        return show_table(self.settings(), caption, max_rows=None)

    def glue_number(self, key: str, value: float, digits: int = 4) -> None:
        """Glue a number rounded to ``digits`` for ``{glue:text}`` in the prose."""
        from myst_nb import glue

        glue(key, round(float(value), digits), display=False)

    def finish(self, claims: Sequence[Claim], baselines: Sequence[Baseline] = ()) -> Path:
        """Show the baselines against their references and the claims table, glue the values and
        write ``results.json``; return its path."""
        from IPython.display import HTML, display
        from myst_nb import glue

        ids = [c.id for c in claims]
        if len(set(ids)) != len(ids):
            raise ValueError(f"claim ids must be unique, got {ids}")
        for claim in claims:
            glue(f"{claim.id}_verdict", claim.verdict, display=False)
            for key, value in claim.measured.items():
                # An undefined value is glued as NaN, so prose that formats it shows "nan" (the
                # claims table gives the reason) instead of failing the build.
                self.glue_number(f"{claim.id}_{key}", math.nan if key in claim.undefined else value)
        if baselines:
            baseline_table = HTML(baselines_html(baselines))
            glue(f"{self.chapter}_baselines", baseline_table, display=False)
            display(baseline_table)
        table = HTML(claims_html(claims))
        glue(f"{self.chapter}_claims", table, display=False)
        display(table)
        glue(f"{self.chapter}_badges", HTML(badges_html(claims)), display=False)
        self.claims = list(claims)
        return self.write_results(claims, baselines)

    def glue_glance(self) -> None:
        """Glue the scorecard's at-a-glance figure of the claims that :meth:`finish` judged, shown
        only on the scorecard. Call it in a cell of its own, tagged ``remove-cell`` and
        ``nbval-ignore-output`` (a figure's bytes are not compared)."""
        if not self.claims:
            raise RuntimeError("glue_glance() shows the claims of finish(): call finish first")
        from IPython.display import HTML
        from myst_nb import glue

        title = f"{get_chapter(self.chapter).title}: claims at a glance"
        fig = forest_figure(self.claims, title)
        problems = unlabelled_axes(fig)
        if problems:
            raise ValueError(f"the glance figure needs a title and labelled axes: {'; '.join(problems)}")
        glue(f"{self.chapter}_glance", HTML(figure_html(fig, title)), display=False)

    def write_results(self, claims: Sequence[Claim], baselines: Sequence[Baseline] = ()) -> Path:
        """Write ``results.json`` (chapter, profile, parameters, claims, baselines, runtime) and return its path."""
        folder = Path(self.config.output_dir) if self.config.output_dir else default_output_dir(self.chapter)
        folder.mkdir(parents=True, exist_ok=True)
        record = {
            "chapter": self.chapter,
            "profile": self.config.profile,
            "parameters": dict(self.config),
            "claims": [c.as_record() for c in claims],
            "baselines": [b.as_record() for b in baselines],
            "runtime_s": round(time.perf_counter() - self.started, 2),
            "threads": self.threads,
            "linstruct_version": __version__,
        }
        path = folder / "results.json"
        partial = path.with_suffix(".json.partial")  # a run killed mid-write leaves no results.json
        partial.write_text(json.dumps(record, indent=2) + "\n")
        partial.replace(path)
        return path


def start_chapter(chapter: str, namespace: Mapping[str, Any] | None = None, **given: Any) -> ChapterRun:
    """Validate the chapter's parameters and prepare the process.

    Parameters are read by name from ``namespace`` (a notebook passes ``globals()``,
    where its ``parameters`` cell and papermill put them) and from ``given``.
    Raises :class:`linstruct.core.parameters.ParameterError` naming the offending
    parameter before anything expensive happens.
    """
    spec = get_chapter(chapter)
    if namespace is not None:
        given = {p.name: namespace[p.name] for p in spec.parameters if p.name in namespace} | given
    config = spec.resolve(**given)
    device = select_device(config.device)
    threads = set_threads(config.threads)
    retain_freed_memory()
    seed_everything(config.seed)
    set_style()
    return ChapterRun(spec.name, config, threads, device)


def effect_html(claim: Claim) -> str:
    """The headline effect: mean, 95% interval, seeds and the share of seeds on the claim's side."""
    headline = claim.headline
    if headline is None:
        return "<small>no check over seeds</small>"
    effect = headline.effect
    low, high = effect.interval
    return (
        f"{effect.mean:.3g} <small>[{low:.3g}, {high:.3g}]</small><br>"
        f"<small>{effect.seeds} seed(s), {headline.seed_share:.0%} holding</small>"
    )


def claims_html(claims: Sequence[Claim]) -> str:
    """The claims as an HTML table: id, verdict (second, so it stays in view) over the headline
    effect with its 95% interval, statement, criterion with its checks, measured values."""
    rows = []
    for c in claims:
        measured = "<br>".join(
            f"{html.escape(k)} = undefined ({html.escape(c.undefined[k])})"
            if k in c.undefined
            else f"{html.escape(k)} = {v:.4g}"
            for k, v in c.measured.items()
        )
        checks = "<br>".join(f"{html.escape(ch.description)}: {ch.status}" for ch in c.checks)
        rows.append(
            "<tr>"
            f"<td><code>{html.escape(c.id)}</code></td>"
            f'<td><span class="verdict verdict-{VERDICT_CLASS[c.verdict]}">{c.verdict}</span><br>{effect_html(c)}</td>'
            f"<td>{html.escape(c.statement)}</td>"
            f"<td>{html.escape(c.criterion)}<details><summary>checks</summary><small>{checks}</small></details></td>"
            f"<td><small>{measured}</small></td>"
            "</tr>"
        )
    head = (
        "<tr><th>claim</th><th>verdict, effect [95% interval]</th><th>the paper says</th>"
        "<th>our criterion</th><th>measured</th></tr>"
    )
    return f'<table class="linstruct-claims"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def baselines_html(baselines: Sequence[Baseline]) -> str:
    """The trained baselines against their references: name, dataset, test accuracy, target, reference."""
    rows = []
    for b in baselines:
        status = "exempt control" if b.met is None else ("reached" if b.met else "missed")
        target = "" if b.target is None else f"{b.target:g}%"
        rows.append(
            f"<tr><td>{html.escape(b.name)}</td><td>{html.escape(b.dataset)}</td><td>{b.accuracy:.1f}%</td>"
            f"<td>{target}</td><td>{status}</td><td><small>{html.escape(b.reference)}</small></td></tr>"
        )
    head = "<tr><th>baseline</th><th>dataset</th><th>test accuracy</th><th>target</th><th></th><th>reference</th></tr>"
    caption = "<caption>Baselines: every model a claim rests on, against the reference it must reach</caption>"
    return f'<table class="linstruct-baselines">{caption}<thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'
