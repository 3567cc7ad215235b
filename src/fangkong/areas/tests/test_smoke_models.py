from fangkong.areas.models import Jurisdiction
from fangkong.core.paths import under


def test_under_matches_subtree_only(tree):
    paths = set(
        Jurisdiction.objects.filter(under("path", tree.town_a.path)).values_list("path", flat=True)
    )
    assert paths == {tree.town_a.path, tree.community_a.path, tree.grid_a.path}
