"""Pure rules of chains: generations and cycle detection."""

from __future__ import annotations

from fangkong.tracing.rules.chains import case_generations, descendants, link_would_cycle


def test_generations_follow_the_links_from_cases_without_infector() -> None:
    # 1 → 2 → 3, 1 → 4, 5 alone
    gens = case_generations([1, 2, 3, 4, 5], [(1, 2), (2, 3), (1, 4)])
    assert gens == {1: 1, 2: 2, 3: 3, 4: 2, 5: 1}


def test_several_infectors_take_the_earliest_generation() -> None:
    # 1 → 2 → 3 and 1 → 3: case 3 is generation 2
    assert case_generations([1, 2, 3], [(1, 2), (2, 3), (1, 3)])[3] == 2


def test_links_to_cases_outside_the_set_are_ignored() -> None:
    assert case_generations([2, 3], [(1, 2), (2, 3)]) == {2: 1, 3: 2}


def test_a_cycle_gets_no_generation() -> None:
    assert case_generations([1, 2], [(1, 2), (2, 1)]) == {}


def test_cycle_detection() -> None:
    links = [(1, 2), (2, 3)]
    assert link_would_cycle(links, 3, 1)  # 3 descends from 1
    assert link_would_cycle(links, 2, 2)
    assert not link_would_cycle(links, 1, 3)
    assert not link_would_cycle(links, 4, 1)
    assert descendants(links, 1) == {2, 3}
