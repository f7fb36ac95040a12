"""A chapter's claims at a glance, for the scorecard: a forest figure and a row of verdict badges.

The forest figure has one row per claim: the headline effect's 95% interval over seeds (a bar),
its mean (a dot) and the per-seed values (ticks) against the claim's threshold (a dashed line),
with the claim's side of it shaded, coloured by the verdict. Each row has its own x-axis,
because effects are in their own units (accuracy points, log10 MSE, ratios). A claim without a
check over seeds (an exact identity) gets a row that says so, in its verdict's colour.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import matplotlib.pyplot as plt

from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED, Claim

VERDICT_COLOURS = {REPRODUCED: "#1b7837", PARTLY: "#d6a100", NOT_REPRODUCED: "#b2182b"}
VERDICT_CLASS = {REPRODUCED: "reproduced", PARTLY: "partly", NOT_REPRODUCED: "not"}
ROW_HEIGHT = 0.85  # inches per claim row


def forest_figure(claims: Sequence[Claim], title: str) -> plt.Figure:
    """One row per claim of ``claims``: effect, interval and per-seed values against the threshold."""
    if not claims:
        raise ValueError("a forest figure needs at least one claim")
    fig, axes = plt.subplots(len(claims), 1, figsize=(8, 0.9 + ROW_HEIGHT * len(claims)), squeeze=False)
    for ax, claim in zip(axes[:, 0], claims):
        _draw_row(ax, claim)
    fig.suptitle(title)
    fig.tight_layout(h_pad=0.4)
    return fig


def _draw_row(ax: plt.Axes, claim: Claim) -> None:
    colour = VERDICT_COLOURS[claim.verdict]
    ax.set_yticks([])
    ax.set_ylabel(claim.id, rotation=0, ha="right", va="center", fontsize="small")
    ax.set_ylim(-1, 1)
    ax.grid(False, axis="y")
    check = claim.headline
    ax.set_xlabel("exact check" if check is None else check.description.split(" = ")[0], fontsize="x-small", labelpad=1)
    if check is None:
        ax.set_xticks([])
        ax.text(
            0.5,
            0.5,
            f"{claim.verdict}: no per-seed effect (an exact check)",
            color=colour,
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize="small",
        )
        return
    effect = check.effect
    low, high = effect.interval
    values = [*effect.values, low, high, *([] if check.bound is None else [check.bound])]
    left, right = min(values), max(values)
    pad = 0.08 * (right - left) or 0.5 * max(abs(right), 1e-3)
    left, right = left - pad, right + pad
    ax.set_xlim(left, right)
    if check.bound is not None:  # a check over seeds built by hand may carry no threshold
        ax.axvspan(*((check.bound, right) if check.side == ">=" else (left, check.bound)), color=colour, alpha=0.08)
        ax.axvline(check.bound, color="black", ls="--", lw=1)
    ax.plot([low, high], [0, 0], color=colour, lw=4, solid_capstyle="butt")
    ax.plot(effect.values, [0.55] * effect.seeds, "|", color=colour, ms=6, alpha=0.7)
    ax.plot([effect.mean], [0], "o", color="white", mec=colour, ms=6)
    ax.tick_params(axis="x", labelsize="x-small")
    ax.text(
        1.01,
        0.5,
        (f"{check.side} {check.bound:.3g}\n" if check.bound is not None else "") + f"{effect.seeds} seeds",
        transform=ax.transAxes,
        fontsize="x-small",
        va="center",
    )


def badges_html(claims: Sequence[Claim]) -> str:
    """The claims as a row of verdict badges, each with its seed share (share of seeds on the claim's
    side of the threshold), for the scorecard's matrix."""
    badges = []
    for claim in claims:
        check = claim.headline
        share = "exact" if check is None else f"{check.seed_share:.0%} of {check.effect.seeds}"
        badges.append(
            f'<span class="verdict verdict-{VERDICT_CLASS[claim.verdict]}" title="{html.escape(claim.verdict)}">'
            f"{html.escape(claim.id)} <small>{share}</small></span>"
        )
    return f'<div class="linstruct-badges">{" ".join(badges)}</div>'


def figure_html(fig: plt.Figure, alt: str) -> str:
    """``fig`` as an HTML image with its PNG inline: a figure glued into another page this way
    travels with the glue (myst-nb copies no image file for a figure pasted from another
    document). Closes ``fig``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img class="linstruct-glance" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
