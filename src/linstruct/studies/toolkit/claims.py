"""Chapter 0's claim: a linear probe on the last hidden layer matches the network's own accuracy.

The claim function takes plain per-seed accuracies (see
:func:`linstruct.studies.toolkit.experiments.probe_claim_inputs`) and returns a :class:`Claim`.
"""

from __future__ import annotations

from collections.abc import Sequence

from linstruct.core.claims import Baseline, Check, Claim, baseline_checks

# Accuracies are ratios of counts, so a gap can sit exactly on the tolerance (20 of 1000 test examples
# = 2 points); gaps are rounded to this many decimals so that float noise does not decide such a case.
DECIMALS = 9
# Measured values are keyed by the dataset's role, not its name, so the prose's glue keys do not
# depend on which datasets a re-run picks.
ROLES = ("main", "second")
# The head is itself a linear read-out of the last layer, so a separately fitted probe can only differ
# through its L2 penalty, its optimiser and its fit on training data; 2 points on a thousand test
# examples allows for that while still catching a probe that misses what the head uses.
TOLERANCE_POINTS = 2.0


def probe_gap_points(network_accuracy: Sequence[float], probe_accuracy: Sequence[float]) -> list[float]:
    """Per seed: |probe - network| accuracy (fractions in [0, 1]) in percentage points, rounded to
    :data:`DECIMALS`."""
    if len(network_accuracy) != len(probe_accuracy) or not network_accuracy:
        raise ValueError(
            f"need one network and one probe accuracy per seed, got {len(network_accuracy)} and {len(probe_accuracy)}"
        )
    return [round(100 * abs(p - n), DECIMALS) for n, p in zip(network_accuracy, probe_accuracy)]


def probe_claim(
    datasets: Sequence[str],
    network_accuracy: Sequence[Sequence[float]],
    probe_accuracy: Sequence[Sequence[float]],
    baselines: Sequence[Baseline] = (),
) -> Claim:
    """ "A linear probe on the last hidden layer matches the network within 2 points", per dataset.

    ``datasets``: one name per role in :data:`ROLES`; ``network_accuracy[d]`` and
    ``probe_accuracy[d]``: dataset d's per-seed test accuracies (fractions). Holds on a dataset
    when the 95% interval of the per-seed gap lies at or below :data:`TOLERANCE_POINTS`; partly
    when it straddles it. ``baselines``: the trained networks against their references (each a
    check of the claim: a probe matching an undertrained network says little).
    """
    if not len(datasets) == len(network_accuracy) == len(probe_accuracy) == len(ROLES):
        raise ValueError(
            f"need one entry per dataset role {ROLES}, got {len(datasets)} names, "
            f"{len(network_accuracy)} network and {len(probe_accuracy)} probe lists"
        )
    measured, checks = {}, []
    for role, name, network, probe in zip(ROLES, datasets, network_accuracy, probe_accuracy):
        gaps = probe_gap_points(network, probe)
        check = Check.interval_at_most(f"|probe - network| on {name} (points)", gaps, TOLERANCE_POINTS)
        low, high = check.effect.interval
        measured.update(
            {
                f"network_{role}": sum(network) / len(network),
                f"probe_{role}": sum(probe) / len(probe),
                f"gap_points_{role}": check.effect.mean,
                f"gap_low_{role}": low,
                f"gap_high_{role}": high,
                f"seeds_holding_{role}": check.seed_share,
            }
        )
        checks.append(check)
    return Claim(
        id="probe_matches_network",
        statement="A linear probe on the last hidden layer matches the network's own test accuracy "
        f"within {TOLERANCE_POINTS:g} points.",
        criterion=f"on every dataset, the 95% interval over seeds of |probe - network| test accuracy lies at "
        f"or below {TOLERANCE_POINTS:g} points (partly: it straddles {TOLERANCE_POINTS:g}); every network "
        "at its reference accuracy",
        measured=measured,
        checks=[*checks, *baseline_checks(baselines)],
        source="the book's own sanity claim (the network's head is itself a linear probe)",
    )
