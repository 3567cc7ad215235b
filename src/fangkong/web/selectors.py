"""Reads for the page shell: the landing page's facts. (The dashboard's figures are
command's: `command.selectors.figures.situation`.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fangkong.accounts.permissions import scope_path
from fangkong.areas import selectors as area_selectors

if TYPE_CHECKING:
    from fangkong.accounts.models import User


def jurisdiction_chain(*, user: User) -> list[dict[str, str]]:
    """The user's own jurisdiction and its ancestors, root first: [{path, name, level}].

    Ancestors are the prefixes of the path (core/paths.py), so this is one indexed
    lookup. Only the user's own chain is read: nothing outside what the account is bound to.
    """
    own = scope_path(user)
    if not own:
        return []
    return area_selectors.jurisdiction_ancestry(path=own)
