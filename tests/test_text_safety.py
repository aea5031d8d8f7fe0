"""srn_core.text_safety's file names: one slug for downloads, reports and ZIP members."""

from __future__ import annotations

from srn_core.text_safety import slug, unique_slugs


def test_slug_keeps_safe_names_and_replaces_everything_else() -> None:
    assert slug("my_scene.jpg") == "my_scene.jpg"
    assert slug("P(j | i)") == "P_j_i"
    assert slug("../../etc/passwd") == "etc_passwd"
    assert slug("chat noir é") == "chat_noir"
    assert slug("...") == "item" and slug("") == "item"
    assert slug("x" * 100) == "x" * 60 and slug("abcdef", limit=3) == "abc"


def test_unique_slugs_never_share_a_file() -> None:
    names = unique_slugs(["a b", "a_b", "A_B", "a/b"])
    assert names[1] == "a_b" and names[2] == "A_B-2"
    assert names[0].startswith("a_b-") and names[3].startswith("a_b-") and names[0] != names[3]
    assert len({n.lower() for n in names}) == 4
