"""Pure rules: transmission chains (generations, cycles). No ORM: ids in, ids out.

A link (infector, infectee) says the infectee was infected by the infector. Generation 1
is every case with no infector; a case infected by a generation-n case is generation
n+1 (with several infectors, the earliest generation counts). Links never form a cycle:
`link_would_cycle` is checked before a link is written.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

Link = tuple[int, int]  # (infector, infectee)


def case_generations(cases: Iterable[int], links: Iterable[Link]) -> dict[int, int]:
    """The generation of each case; links to cases outside `cases` are ignored.

    Breadth-first from the cases with no infector, so each case gets the shortest chain
    from a source; a case only reachable through a cycle (impossible by construction)
    gets no generation.
    """
    members = set(cases)
    infectees: dict[int, list[int]] = defaultdict(list)
    has_infector: set[int] = set()
    for infector, infectee in links:
        if infector in members and infectee in members and infector != infectee:
            infectees[infector].append(infectee)
            has_infector.add(infectee)
    generation = dict.fromkeys(sorted(members - has_infector), 1)
    queue = deque(generation)
    while queue:
        case = queue.popleft()
        for child in sorted(infectees[case]):
            if child not in generation:
                generation[child] = generation[case] + 1
                queue.append(child)
    return generation


def link_would_cycle(links: Iterable[Link], infector: int, infectee: int) -> bool:
    """Whether adding infector → infectee closes a cycle (the infector descends from the
    infectee, or they are the same case)."""
    if infector == infectee:
        return True
    infectees: dict[int, list[int]] = defaultdict(list)
    for source, target in links:
        infectees[source].append(target)
    seen = {infectee}
    queue = deque([infectee])
    while queue:
        for child in infectees[queue.popleft()]:
            if child == infector:
                return True
            if child not in seen:
                seen.add(child)
                queue.append(child)
    return False


def descendants(links: Iterable[Link], root: int) -> set[int]:
    """Every case infected, directly or down the chain, by `root`."""
    infectees: dict[int, list[int]] = defaultdict(list)
    for source, target in links:
        infectees[source].append(target)
    seen: set[int] = set()
    queue = deque([root])
    while queue:
        for child in infectees[queue.popleft()]:
            if child not in seen and child != root:
                seen.add(child)
                queue.append(child)
    return seen
