"""Data-driven attribution weights from conversion paths: Markov removal effect and Shapley
value (spec issue 15, section 4). Pure Python, so the dbt Python model
int_attribution_channel_weights runs it in-process without numpy or pandas.

A *path* is one deal's kept channel sequence (in touch order) and whether the deal converted.
The fit paths (decided deals) estimate one weight per channel; each path_key to credit (a
deal's set of distinct channels) then splits its credit over its channels by those weights.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

# method column of int_attribution_channel_weights
MARKOV = "markov"
SHAPLEY = "shapley"
EVEN_FALLBACK = "even_fallback"
TOO_MANY_CHANNELS = "too_many_channels"

Kind = Literal["markov", "shapley"]
ConversionPath = tuple[Sequence[str], bool]
"""A channel sequence in touch order, and whether the deal converted."""


@dataclass(frozen=True)
class ChannelWeight:
    path_key: str
    channel: str
    weight: float
    method: str


# --- Markov chain --------------------------------------------------------------------------


def markov_removal_effects(paths: Iterable[ConversionPath]) -> dict[str, float]:
    """Removal effect RE(c) = 1 - P(without c) / P of every channel seen in `paths`.

    First-order chain over the states start, each channel, conversion and null, with
    transition probabilities = observed transition counts / the state's outgoing count
    (start -> c1, c_i -> c_{i+1} including repeats, c_n -> conversion or null). P is the
    probability of being absorbed in conversion from start; removing c sends every
    transition into c to null. No conversion at all (P = 0) gives every channel RE 0.

    Solved exactly as a linear system, not by simulating journeys: a sampled P changes from
    build to build, every changed weight is a changed credit and so a HubSpot write, and a
    loop (A -> B -> A) makes the set of journeys infinite, so enumeration is no way out.
    """
    channels, rows, to_conversion = _transition_probabilities(paths)
    if not channels:
        return {}
    # transient states: 0 = start, i = channels[i - 1]; (I - Q) x = b, x_s = P(conversion | s)
    size = len(channels) + 1
    system = [[-q for q in row] for row in rows]
    for i in range(size):
        system[i][i] += 1.0
    lu, pivots = _lu_factor(system)
    absorbed = _lu_solve(lu, pivots, to_conversion)
    p_conversion = absorbed[0]
    if p_conversion <= 0.0:
        return dict.fromkeys(channels, 0.0)
    effects = {}
    for j, channel in enumerate(channels, start=1):
        # Removing c zeroes column j of Q: a rank-one change of I - Q, so Sherman-Morrison
        # reuses the one factorization (y = (I - Q)^-1 Q e_j) instead of a solve per channel.
        # y_j = expected returns to c from c, y_0 = expected visits to c from start, and
        # P(without c) = P - P(ever reach c) * P(conversion | c), P(ever reach c) = y_0/(1+y_j).
        y = _lu_solve(lu, pivots, [row[j] for row in rows])
        p_without = p_conversion - y[0] * absorbed[j] / (1.0 + y[j])
        # rounding must not turn "removing c changes nothing" into a tiny negative effect
        effects[channel] = min(1.0, max(0.0, 1.0 - p_without / p_conversion))
    return effects


def _transition_probabilities(
    paths: Iterable[ConversionPath],
) -> tuple[list[str], list[list[float]], list[float]]:
    """Channels (sorted, for a reproducible system), the transient-to-transient matrix Q
    (row/column 0 = start) and each transient state's probability of stepping to conversion."""
    counts: Counter[tuple[str | None, str]] = Counter()
    conversions: Counter[str] = Counter()
    outgoing: Counter[str | None] = Counter()
    for sequence, converted in paths:
        if not sequence:
            continue
        previous: str | None = None  # None is the start state: no channel can be named None
        for channel in sequence:
            counts[previous, channel] += 1
            outgoing[previous] += 1
            previous = channel
        last = sequence[-1]
        outgoing[last] += 1
        if converted:
            conversions[last] += 1
    channels = sorted(c for c in outgoing if c is not None)
    index: dict[str | None, int] = {None: 0} | {c: i for i, c in enumerate(channels, start=1)}
    rows = [[0.0] * (len(channels) + 1) for _ in range(len(channels) + 1)]
    for (source, target), count in counts.items():
        rows[index[source]][index[target]] = count / outgoing[source]
    to_conversion = [0.0] * (len(channels) + 1)
    for channel, count in conversions.items():
        to_conversion[index[channel]] = count / outgoing[channel]
    return channels, rows, to_conversion


def _lu_factor(matrix: list[list[float]]) -> tuple[list[list[float]], list[int]]:
    """Gaussian elimination with partial pivoting, in place on a copy: L below the diagonal
    (unit diagonal implied), U on and above it; pivots[k] = the row swapped into row k.

    I - Q of an absorbing chain is nonsingular: every state of an observed path reaches the
    path's end, so a zero pivot would mean a bug, and it raises rather than divides by 0.
    """
    lu = [row[:] for row in matrix]
    size = len(lu)
    pivots = []
    for k in range(size):
        pivot = max(range(k, size), key=lambda r: abs(lu[r][k]))
        if lu[pivot][k] == 0.0:
            raise ArithmeticError("singular transition system: a state never reaches an end")
        lu[k], lu[pivot] = lu[pivot], lu[k]
        pivots.append(pivot)
        head = lu[k]
        for r in range(k + 1, size):
            row = lu[r]
            if row[k] == 0.0:
                continue
            factor = row[k] / head[k]
            row[k] = factor
            for c in range(k + 1, size):
                row[c] -= factor * head[c]
    return lu, pivots


def _lu_solve(lu: list[list[float]], pivots: list[int], rhs: Sequence[float]) -> list[float]:
    x = list(rhs)
    for k, pivot in enumerate(pivots):
        x[k], x[pivot] = x[pivot], x[k]
    size = len(x)
    for r in range(size):
        x[r] -= sum(lu[r][c] * x[c] for c in range(r))
    for r in reversed(range(size)):
        x[r] = (x[r] - sum(lu[r][c] * x[c] for c in range(r + 1, size))) / lu[r][r]
    return x


def markov_weights(
    channel_set: Collection[str], removal_effects: Mapping[str, float]
) -> tuple[dict[str, float], str]:
    """RE(c) / sum of RE over the set (a channel the fit never saw has RE 0); a zero sum
    splits evenly."""
    effects = {c: removal_effects.get(c, 0.0) for c in channel_set}
    return _normalized(effects, MARKOV)


# --- Shapley value -------------------------------------------------------------------------


class CoalitionRates(dict[frozenset[str], float]):
    """v(S) by channel set, plus every non-zero v keyed by a bitmask over one channel index,
    so a path's 2^n coalitions are walked as integers instead of being built as sets (at 1M
    learners that is the difference between minutes and seconds). Built once, never mutated.
    """

    def __init__(self, values: Mapping[frozenset[str], float] | None = None) -> None:
        super().__init__(values or {})
        self.index = {c: i for i, c in enumerate(sorted({c for s in self for c in s}))}
        self.by_mask = {
            sum(1 << self.index[c] for c in coalition): value
            for coalition, value in self.items()
            if value != 0.0
        }


def coalition_conversion_rates(paths: Iterable[ConversionPath]) -> CoalitionRates:
    """v(S) = conversions / paths among the paths whose distinct channel set is exactly S."""
    seen: Counter[frozenset[str]] = Counter()
    converted: Counter[frozenset[str]] = Counter()
    for sequence, is_conversion in paths:
        if not sequence:
            continue
        coalition = frozenset(sequence)
        seen[coalition] += 1
        if is_conversion:
            converted[coalition] += 1
    return CoalitionRates({s: converted[s] / n for s, n in seen.items()})


def shapley_weights(
    channel_set: Collection[str], rates: Mapping[frozenset[str], float], max_channels: int
) -> tuple[dict[str, float], str]:
    """Shapley value of each channel of the set in the game v = `rates` (v = 0 for a set no
    fit path has, and for the empty set), negative values clipped to 0, normalized to sum 1.

    2^(n-1) coalitions per channel, so more than `max_channels` channels split evenly
    ('too_many_channels') instead; all values 0 split evenly too ('even_fallback').
    """
    members = sorted(set(channel_set))
    n = len(members)
    if n > max_channels:
        return dict.fromkeys(members, 1.0 / n), TOO_MANY_CHANNELS
    table = rates if isinstance(rates, CoalitionRates) else CoalitionRates(rates)
    # share[s] = s! (n - s - 1)! / n!: the share of the n! orderings of the set in which
    # exactly the s channels of S come before c
    share = [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
    # phi_c = sum over S not holding c of share[|S|] (v(S + c) - v(S)), regrouped by coalition
    # T of the set: v(T) adds share[|T| - 1] v(T) to each c in T and takes share[|T|] v(T)
    # from each c not in T. Only the T with v != 0 count, so one walk over the submasks of
    # the set replaces the n 2^(n-1) differences of the definition. A channel no fit path
    # has gets bit 0: it is in no T.
    bits = [(c, 1 << table.index[c] if c in table.index else 0) for c in members]
    whole = 0
    for _, bit in bits:
        whole |= bit
    phi = dict.fromkeys(members, 0.0)
    coalition = whole
    while coalition:
        value = table.by_mask.get(coalition)
        if value:
            size = coalition.bit_count()
            gain, loss = share[size - 1] * value, share[size] * value if size < n else 0.0
            for channel, bit in bits:
                if coalition & bit:
                    phi[channel] += gain
                else:
                    phi[channel] -= loss
        coalition = (coalition - 1) & whole
    values = {c: max(0.0, v) for c, v in phi.items()}
    return _normalized(values, SHAPLEY)


# --- rows of int_attribution_channel_weights -----------------------------------------------


def channel_weight_rows(
    kind: Kind,
    fit_paths: Iterable[ConversionPath],
    path_channels: Mapping[str, Collection[str]],
    max_channels: int,
) -> list[ChannelWeight]:
    """One row per (path_key, channel) of `path_channels` (path_key -> its distinct
    channels), weights fitted on `fit_paths` (the decided deals of one attribution model).

    The channel sets come with the keys rather than by splitting a key on ' + ', which a
    channel name containing ' + ' (a course category) would break.
    """
    fit = list(fit_paths)
    rows = []
    if kind == MARKOV:
        effects = markov_removal_effects(fit)

        def weigh(channels: Collection[str]) -> tuple[dict[str, float], str]:
            return markov_weights(channels, effects)
    elif kind == SHAPLEY:
        rates = coalition_conversion_rates(fit)

        def weigh(channels: Collection[str]) -> tuple[dict[str, float], str]:
            return shapley_weights(channels, rates, max_channels)
    else:
        raise ValueError(f"kind must be {MARKOV!r} or {SHAPLEY!r}, not {kind!r}")
    for path_key in sorted(path_channels):
        weights, method = weigh(path_channels[path_key])
        rows.extend(ChannelWeight(path_key, c, w, method) for c, w in sorted(weights.items()))
    return rows


def _normalized(values: Mapping[str, float], method: str) -> tuple[dict[str, float], str]:
    total = sum(values.values())
    if not values:
        return {}, method
    if total <= 0.0:
        return {c: 1.0 / len(values) for c in values}, EVEN_FALLBACK
    return {c: v / total for c, v in values.items()}, method
