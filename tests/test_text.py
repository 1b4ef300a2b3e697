from bot.matching.text import clean_for_matching


def test_slack_markup_is_removed_and_link_labels_kept() -> None:
    text = "<@U123ABC> <!here> is <https://fastapi.tiangolo.com|FastAPI> faster? <#C42|general>"
    assert clean_for_matching(text, 400) == "is fastapi faster"


def test_bare_links_mailto_and_subteams_vanish() -> None:
    text = "see <https://example.com> <mailto:a@b.c> <!subteam^S1|@devs> docs"
    assert clean_for_matching(text, 400) == "see docs"


def test_unicode_is_folded_nfkc_and_lowercased() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in "FastAPI") + "\u3000" + "SWAGGER"
    assert clean_for_matching(full_width, 400) == "fastapi swagger"


def test_zero_width_control_and_bidi_characters_are_dropped() -> None:
    text = "fast\u200bapi\u200e \u202eswagger\x07"
    assert clean_for_matching(text, 400) == "fastapi swagger"


def test_emoji_codes_and_apostrophes() -> None:
    assert clean_for_matching(":rocket: What's FastAPI's deal? :+1:", 400) == "whats fastapis deal"


def test_slack_escaped_user_text_is_unescaped_then_cleaned() -> None:
    assert clean_for_matching("flask &amp; fastapi &lt;3", 400) == "flask fastapi 3"


def test_length_is_capped() -> None:
    cleaned = clean_for_matching("swagger " * 20_000, 400)
    assert len(cleaned) <= 400
    assert cleaned.startswith("swagger swagger")
