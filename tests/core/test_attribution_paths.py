"""Markov removal effect and Shapley weights (lmsbridge_core.attribution_paths), each pinned by
arithmetic done by hand in the comments; docs/attribution.md repeats the same examples."""

import itertools
import math
import random

import pytest

from lmsbridge_core.attribution_paths import (
    EVEN_FALLBACK,
    MARKOV,
    SHAPLEY,
    TOO_MANY_CHANNELS,
    ChannelWeight,
    channel_weight_rows,
    coalition_conversion_rates,
    markov_removal_effects,
    markov_weights,
    shapley_weights,
)

# --- Markov --------------------------------------------------------------------------------

THREE_PATHS = [(["A", "B", "C"], True), (["A", "C"], False), (["B"], False)]


def test_markov_three_paths_by_hand() -> None:
    # Transition counts: start->A 2, start->B 1; A->B 1, A->C 1; B->C 1, B->null 1;
    # C->conversion 1, C->null 1. Row-normalized, P(s -> t):
    #            A     B     C     conv  null
    #   start   2/3   1/3    0      0     0
    #   A        0    1/2   1/2     0     0
    #   B        0     0    1/2     0    1/2
    #   C        0     0     0     1/2   1/2
    # x_s = P(conversion | s): x_C = 1/2, x_B = 1/2 x_C = 1/4, x_A = 1/2 x_B + 1/2 x_C = 3/8,
    # P = x_start = 2/3 * 3/8 + 1/3 * 1/4 = 1/4 + 1/12 = 1/3.
    # Without A (start->A goes to null): P = 1/3 * x_B = 1/12, RE(A) = 1 - (1/12)/(1/3) = 3/4.
    # Without B: x_A = 1/2 * 0 + 1/2 * 1/2 = 1/4, P = 2/3 * 1/4 = 1/6, RE(B) = 1 - 1/2 = 1/2.
    # Without C: nothing reaches conversion, P = 0, RE(C) = 1.
    effects = markov_removal_effects(THREE_PATHS)
    assert effects == pytest.approx({"A": 3 / 4, "B": 1 / 2, "C": 1.0}, abs=1e-12)
    # {A, B, C}: sum RE = 9/4, so A = 3/4 / 9/4 = 1/3, B = 1/2 / 9/4 = 2/9, C = 4/9.
    weights, method = markov_weights({"A", "B", "C"}, effects)
    assert method == MARKOV
    assert weights == pytest.approx({"A": 1 / 3, "B": 2 / 9, "C": 4 / 9}, abs=1e-12)
    # {A, B}: 3/4 / 5/4 = 3/5 and 1/2 / 5/4 = 2/5.
    assert markov_weights({"A", "B"}, effects)[0] == pytest.approx({"A": 0.6, "B": 0.4})


def test_markov_loop_path_is_solved_exactly() -> None:
    # A->B->A->conversion and B->null. start->A 1/2, start->B 1/2;
    # A: ->B 1/2, ->conversion 1/2 (A appears twice: one exit to B, one to conversion);
    # B: ->A 1/2, ->null 1/2.
    # x_A = 1/2 x_B + 1/2, x_B = 1/2 x_A  =>  x_A = 1/4 x_A + 1/2  =>  x_A = 2/3, x_B = 1/3.
    # P = 1/2 * 2/3 + 1/2 * 1/3 = 1/2 (a finite enumeration of journeys would never end).
    # Without A: no way to conversion, RE(A) = 1.
    # Without B: x_A = 1/2 (A->B goes to null), P = 1/2 * 1/2 = 1/4, RE(B) = 1 - 1/2 = 1/2.
    effects = markov_removal_effects([(["A", "B", "A"], True), (["B"], False)])
    assert effects == pytest.approx({"A": 1.0, "B": 0.5}, abs=1e-12)


def test_markov_repeat_of_a_channel_counts_as_a_self_transition() -> None:
    # A->A->conversion and A->null: A: ->A 1/3, ->conversion 1/3, ->null 1/3.
    # x_A = 1/3 x_A + 1/3  =>  x_A = 1/2 = P; without A, P = 0, RE(A) = 1.
    assert markov_removal_effects([(["A", "A"], True), (["A"], False)]) == {"A": 1.0}


def test_markov_without_conversions_every_effect_is_zero_and_weights_split_evenly() -> None:
    effects = markov_removal_effects([(["A", "B"], False), (["B"], False)])
    assert effects == {"A": 0.0, "B": 0.0}
    assert markov_weights({"A", "B"}, effects) == ({"A": 0.5, "B": 0.5}, EVEN_FALLBACK)


def test_markov_channel_only_in_non_conversions_gets_no_credit() -> None:
    # A->conversion, A->C->null: start->A 1; A: ->conversion 1/2, ->C 1/2; C: ->null 1.
    # P = x_A = 1/2. Without C: A->C goes to null, x_A still 1/2, RE(C) = 0; RE(A) = 1.
    effects = markov_removal_effects([(["A"], True), (["A", "C"], False)])
    assert effects == pytest.approx({"A": 1.0, "C": 0.0}, abs=1e-12)
    assert markov_weights({"A", "C"}, effects) == ({"A": 1.0, "C": 0.0}, MARKOV)
    # a path of C alone has only zero effects: even split (here the whole credit)
    assert markov_weights({"C"}, effects) == ({"C": 1.0}, EVEN_FALLBACK)
    # a channel the fit never saw (an undecided deal's) has RE 0
    assert markov_weights({"A", "D"}, effects) == ({"A": 1.0, "D": 0.0}, MARKOV)


def _absorption_by_iteration(paths: list[tuple[list[str], bool]], removed: str | None) -> float:
    """An independent reference: iterate x = Q x + b until it settles (removed -> null)."""
    outgoing: dict[str, dict[str, int]] = {}
    for sequence, converted in paths:
        states = ["<start>", *sequence, "<conversion>" if converted else "<null>"]
        for a, b in itertools.pairwise(states):
            outgoing.setdefault(a, {}).setdefault(b, 0)
            outgoing[a][b] += 1
    x = {s: 0.0 for s in outgoing} | {"<conversion>": 1.0, "<null>": 0.0}
    for _ in range(5000):
        for s, targets in outgoing.items():
            total = sum(targets.values())
            x[s] = sum(n / total * (0.0 if t == removed else x[t]) for t, n in targets.items())
    return x["<start>"]


def test_markov_matches_value_iteration_on_random_paths() -> None:
    rng = random.Random(15)
    channels = ["A", "B", "C", "D", "E"]
    paths = [
        ([rng.choice(channels) for _ in range(rng.randint(1, 5))], rng.random() < 0.3)
        for _ in range(60)
    ]
    effects = markov_removal_effects(paths)
    p = _absorption_by_iteration(paths, None)
    for channel in channels:
        expected = 1 - _absorption_by_iteration(paths, channel) / p
        assert effects[channel] == pytest.approx(expected, abs=1e-9)


# --- Shapley -------------------------------------------------------------------------------


def test_shapley_two_channels_by_hand() -> None:
    # {A}: 2 paths, 1 converted -> v(A) = 1/2; {B}: 4 paths, 1 converted -> v(B) = 1/4;
    # {A, B}: 2 paths, both converted -> v(AB) = 1; v(empty) = 0. Coefficients for n = 2:
    # |S| = 0: 0! 1! / 2! = 1/2, |S| = 1: 1! 0! / 2! = 1/2.
    # phi_A = 1/2 (v(A) - 0) + 1/2 (v(AB) - v(B)) = 1/4 + 3/8 = 5/8
    # phi_B = 1/2 (v(B) - 0) + 1/2 (v(AB) - v(A)) = 1/8 + 1/4 = 3/8   (sum = v(AB) = 1)
    paths = [(["A"], True), (["A"], False)]
    paths += [(["B"], True), (["B"], False), (["B", "B"], False), (["B"], False)]
    paths += [(["A", "B"], True), (["B", "A", "B"], True)]
    rates = coalition_conversion_rates(paths)
    assert rates == {frozenset("A"): 0.5, frozenset("B"): 0.25, frozenset("AB"): 1.0}
    weights, method = shapley_weights({"A", "B"}, rates, max_channels=10)
    assert method == SHAPLEY
    assert weights == pytest.approx({"A": 5 / 8, "B": 3 / 8}, abs=1e-12)


def test_shapley_three_channels_by_hand() -> None:
    # v(A) = .2, v(B) = .1, v(C) = 0 (no path has exactly {C}), v(AB) = .5, v(AC) = .4,
    # v(BC) = .3, v(ABC) = .6. Coefficients for n = 3: |S| = 0: 2!/3! = 1/3,
    # |S| = 1: 1! 1!/3! = 1/6, |S| = 2: 2!/3! = 1/3.
    # phi_A = 1/3 (.2) + 1/6 (.5 - .1) + 1/6 (.4 - 0) + 1/3 (.6 - .3) = .2/3 + .4/6 + .4/6 + .1 = .3
    # phi_B = 1/3 (.1) + 1/6 (.5 - .2) + 1/6 (.3 - 0) + 1/3 (.6 - .4) = .1/3 + .05 + .05 + .2/3 = .2
    # phi_C = 1/3 (0) + 1/6 (.4 - .2) + 1/6 (.3 - .1) + 1/3 (.6 - .5) = .2/6 + .2/6 + .1/3 = .1
    # sum = .6 = v(ABC); normalized: A = 1/2, B = 1/3, C = 1/6.
    rates = {
        frozenset("A"): 0.2,
        frozenset("B"): 0.1,
        frozenset("AB"): 0.5,
        frozenset("AC"): 0.4,
        frozenset("BC"): 0.3,
        frozenset("ABC"): 0.6,
    }
    weights, method = shapley_weights(["A", "B", "C"], rates, max_channels=10)
    assert method == SHAPLEY
    assert weights == pytest.approx({"A": 1 / 2, "B": 1 / 3, "C": 1 / 6}, abs=1e-12)


def test_shapley_negative_value_is_clipped_to_zero() -> None:
    # v(A) = .5, v(B) = .1, v(AB) = .2: phi_A = 1/2 (.5) + 1/2 (.2 - .1) = .3,
    # phi_B = 1/2 (.1) + 1/2 (.2 - .5) = -.1 -> 0; normalized A = 1, B = 0.
    rates = {frozenset("A"): 0.5, frozenset("B"): 0.1, frozenset("AB"): 0.2}
    assert shapley_weights({"A", "B"}, rates, 10) == ({"A": 1.0, "B": 0.0}, SHAPLEY)


def test_shapley_all_zero_splits_evenly() -> None:
    rates = {frozenset("A"): 0.0, frozenset("AB"): 0.0}
    assert shapley_weights({"A", "B"}, rates, 10) == ({"A": 0.5, "B": 0.5}, EVEN_FALLBACK)


def test_shapley_too_many_channels_splits_evenly() -> None:
    rates = {frozenset("ABC"): 1.0}
    weights, method = shapley_weights({"A", "B", "C"}, rates, max_channels=2)
    assert method == TOO_MANY_CHANNELS
    assert weights == pytest.approx({"A": 1 / 3, "B": 1 / 3, "C": 1 / 3})
    assert shapley_weights({"A", "B"}, rates, max_channels=2)[1] == EVEN_FALLBACK


def _shapley_by_definition(members: list[str], rates: dict[frozenset[str], float]) -> dict:
    """The textbook sum over S of |S|!(n-|S|-1)!/n! (v(S + c) - v(S)), unclipped."""
    n = len(members)
    phi = {}
    for c in members:
        others = [m for m in members if m != c]
        phi[c] = sum(
            math.factorial(k)
            * math.factorial(n - k - 1)
            / math.factorial(n)
            * (rates.get(frozenset(s) | {c}, 0.0) - rates.get(frozenset(s), 0.0))
            for k in range(n)
            for s in itertools.combinations(others, k)
        )
    return phi


def test_shapley_matches_the_definition_on_random_rates() -> None:
    rng = random.Random(3)
    members = list("ABCDEF")
    for _ in range(20):
        rates = {
            frozenset(s): rng.random()
            for k in range(1, 7)
            for s in itertools.combinations(members, k)
            if rng.random() < 0.4
        }
        exact = _shapley_by_definition(members, rates)
        clipped = {c: max(0.0, v) for c, v in exact.items()}
        total = sum(clipped.values())
        weights, method = shapley_weights(members, rates, max_channels=10)
        assert method == SHAPLEY
        assert weights == pytest.approx({c: v / total for c, v in clipped.items()}, abs=1e-12)


# --- rows ----------------------------------------------------------------------------------


def test_rows_cover_every_path_key_including_unseen_channels() -> None:
    path_channels = {"A + B + C": ["A", "B", "C"], "D": ["D"], "A + D": ["A", "D"]}
    rows = channel_weight_rows("markov", THREE_PATHS, path_channels, max_channels=10)
    assert rows[:3] == [
        ChannelWeight("A + B + C", "A", pytest.approx(1 / 3), MARKOV),
        ChannelWeight("A + B + C", "B", pytest.approx(2 / 9), MARKOV),
        ChannelWeight("A + B + C", "C", pytest.approx(4 / 9), MARKOV),
    ]
    assert rows[3:] == [
        ChannelWeight("A + D", "A", 1.0, MARKOV),
        ChannelWeight("A + D", "D", 0.0, MARKOV),
        ChannelWeight("D", "D", 1.0, EVEN_FALLBACK),
    ]
    with pytest.raises(ValueError, match="kind"):
        channel_weight_rows("linear", THREE_PATHS, path_channels, 10)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["markov", "shapley"])
def test_weights_sum_to_one_and_single_channel_paths_get_everything(kind: str) -> None:
    rng = random.Random(7)
    channels = [f"course_{i}" for i in range(8)]
    paths = [
        ([rng.choice(channels) for _ in range(rng.randint(1, 6))], rng.random() < 0.25)
        for _ in range(300)
    ]
    path_channels = {" + ".join(sorted(set(s))): sorted(set(s)) for s, _ in paths}
    path_channels |= {c: [c] for c in [*channels, "never_seen"]}
    rows = channel_weight_rows(kind, paths, path_channels, max_channels=4)  # type: ignore[arg-type]
    sums: dict[str, float] = {}
    for row in rows:
        assert 0.0 <= row.weight <= 1.0
        sums[row.path_key] = sums.get(row.path_key, 0.0) + row.weight
    assert set(sums) == set(path_channels)
    assert all(abs(total - 1.0) <= 1e-9 for total in sums.values())
    singles = [r for r in rows if len(path_channels[r.path_key]) == 1]
    assert len(singles) == 9
    assert all(r.weight == 1.0 for r in singles)
    if kind == "shapley":
        assert {r.method for r in rows} >= {SHAPLEY, TOO_MANY_CHANNELS}
