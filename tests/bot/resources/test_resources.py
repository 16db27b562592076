"""The resource library through the real dispatcher on the test storage engine: ranking, accents, typos, filters,
visibility, pagination, hostile query syntax and who may change what."""

from __future__ import annotations

import pytest

from bot.resources.model import fold, normalise_url
from bot.resources.query import match_expression, parse_query
from tests.support import Harness

HIDDEN = "Zebrafinch field notes on coordinated harassment"


async def _add(h: Harness, text: str, user: str = "demo-admin") -> int:
    reply = await h.text(user, f"resource add {text}")
    assert reply.startswith("Added #"), reply
    return int(reply.split("#", 1)[1].split(" ", 1)[0])


def _titles(reply: str) -> list[str]:
    return [line.split(" ", 1)[1] for line in reply.splitlines() if line.startswith("#")]


async def test_title_match_ranks_above_tag_and_summary_matches(h: Harness) -> None:
    summary = " ".join(["How deepfakes spread: deepfakes in campaigns, deepfakes on messaging apps."] * 3)
    await _add(h, f'https://example.org/a "Campaign monitoring notes" summary:"{summary}" topics:elections '
                  "visibility:public")
    await _add(h, "https://example.org/b Platform policy tracker tags:deepfakes,policy topics:elections "
                  "visibility:public")
    await _add(h, "https://example.org/c Deepfakes and elections: a field guide topics:elections visibility:public")
    reply = await h.text("demo-member", "resource search deepfakes")
    assert _titles(reply) == ["Deepfakes and elections: a field guide", "Platform policy tracker",
                              "Campaign monitoring notes"]


async def test_demo_library_ranks_the_titled_report_first(h: Harness) -> None:
    reply = await h.text("demo-member", "resource search tech for democracy")
    assert _titles(reply)[0] == "Tech for Democracy: Learnings from the Year of Action"
    assert "report · en · elections, research" in reply and "https://www.diis.dk/" in reply


@pytest.mark.parametrize("query", ["kobenhavn", "KØBENHAVN", "Kobenhavns", "københavn"])
async def test_accents_and_letters_unicode61_does_not_fold(h: Harness, query: str) -> None:
    await _add(h, "https://example.org/kbh Rapport fra København om desinformation visibility:public")
    assert "Rapport fra København" in await h.text("demo-outsider", f"resource search {query}")


@pytest.mark.parametrize(("title", "query"), [("Straße der Überwachung", "strasse uberwachung"),
                                              ("Ærøskøbing workshop", "aeroskobing"),
                                              ("Đorđević and Łódź case study", "dordevic lodz"),
                                              ("La désinformation électorale", "desinformation electorale")])
async def test_more_folded_letters(h: Harness, title: str, query: str) -> None:
    await _add(h, f"https://example.org/{abs(hash(title))} {title} visibility:public")
    assert title in await h.text("demo-outsider", f"resource search {query}")


def test_fold_handles_what_unicode61_does_not() -> None:
    assert fold("København Æble Straße Đakovo Łódź ŒUVRE") == "kobenhavn aeble strasse dakovo lodz oeuvre"


async def test_typo_finds_the_word_and_says_did_you_mean(h: Harness) -> None:
    reply = await h.text("demo-outsider", "resource search disinfromation")
    assert "Did you mean “disinformation”? Showing results for it." in reply
    assert "EUvsDisinfo database of disinformation cases" in reply


async def test_typo_in_one_of_several_words(h: Harness) -> None:
    reply = await h.text("demo-outsider", "resource search verification handbok")
    assert "Did you mean “verification handbook”?" in reply
    assert _titles(reply)[0] == "Verification Handbook for Disinformation and Media Manipulation"


async def test_known_words_are_not_corrected(h: Harness) -> None:
    await _add(h, "https://example.org/v2 Verificaton checklist visibility:public")  # misspelt, but indexed
    reply = await h.text("demo-outsider", "resource search verificaton")
    assert "Verificaton checklist" in reply and "Did you mean" not in reply


async def test_filters_by_language_kind_and_topic(h: Harness) -> None:
    french = await h.text("demo-member", "resource search security lang:fr")
    assert _titles(french) == ["Security in a Box : outils et tactiques de sécurité numérique"]
    datasets = await h.text("demo-member", "resource search news kind:dataset")
    assert _titles(datasets) == ["Reuters Institute Digital News Report 2024"]
    research = await h.text("demo-member", "resource search disinformation topic:research")
    assert "EUvsDisinfo database of disinformation cases" in research
    assert "First Draft's Essential Guide" not in research
    assert "Did you mean research?" in await h.text("demo-member", "resource search x topic:reserch")


async def test_outsiders_see_public_resources_in_topics_they_can_see(h: Harness) -> None:
    member = await h.text("demo-member", "resource search security")
    assert "Security in a Box: digital security tools and tactics" in member
    outsider = await h.text("demo-outsider", "resource search security")
    assert "Security in a Box" not in outsider and "No resources match" in outsider
    assert "There is no resource #20." in await h.text("demo-outsider", "resource show 20")
    browse = await h.text("demo-outsider", "resources")
    assert "cybersecurity" not in browse and "research (" not in browse
    # Public, but only in a private topic: only people in that topic find it.
    await _add(h, "https://example.org/ir Incident playbook for coalition members topics:incident-response "
                  "visibility:public")
    assert "No resources match" in await h.text("demo-member", "resource search incident playbook")
    assert "Incident playbook" in await h.text("demo-admin", "resource search incident playbook")


async def test_pagination_next_page_action_runs(h: Harness) -> None:
    first = await h.say("demo-member", "resource search security")
    actions = {a.label: a.command for a in first.message.actions}
    assert actions["Next page"] == "resource search page:2 security"
    second = await h.text("demo-member", actions["Next page"])
    assert "page 2" in second
    assert not set(_titles(second)) & set(_titles(first.message.plain_text()))
    assert "/resource search page:1 security" in second
    browse = await h.say("demo-member", "resources research")
    assert {a.command for a in browse.message.actions} == {"resources research page:2"}
    assert "page 2" in await h.text("demo-member", "resources research page:2")


HOSTILE = ['zebrafinch OR public', '"zebrafinch', 'zebrafinch"', 'NEAR(zebrafinch harassment)', 'zebra*',
           '(zebrafinch', 'zebrafinch)', '-zebrafinch', 'zebrafinch AND NOT x', 'search_title:zebrafinch',
           '{search_title search_summary}: zebrafinch', '^zebrafinch', 'zebrafinch NOT', '* OR *', '"" ""', '*',
           'zebrafinch:*', "zebrafinch' OR 1=1 --", 'zebrafinh', 'zebr', '“zebrafinch field”', "ze'bra \\ fi"]


@pytest.mark.parametrize("query", HOSTILE)
async def test_fts_syntax_never_errors_and_never_leaks(h: Harness, query: str) -> None:
    await _add(h, f"https://example.org/hidden {HIDDEN} topics:whrd-safety tags:zebrafinch")
    await _add(h, "https://example.org/public Public zebrafinch primer topics:disinformation visibility:public")
    outsider = await h.text("demo-outsider", f"resource search {query}")
    assert "Zebrafinch field notes" not in outsider
    member = await h.text("demo-member", f"resource search {query}")
    assert "Traceback" not in member and "Error" not in member


def test_match_expression_is_only_quoted_tokens() -> None:
    expression = match_expression(parse_query('NEAR(a b) "hate speech" e-mail x* OR title:y (z'))
    assert expression == '"a" "b" "hate speech" "e mail"* "x" "title y" "z"'
    assert match_expression(parse_query("disinfo")) == '"disinfo"*'
    assert parse_query('* "" () OR') == []


async def test_quoted_phrase_must_appear_together(h: Harness) -> None:
    await _add(h, "https://example.org/p1 Speech about hate online visibility:public")
    await _add(h, "https://example.org/p2 Hate speech monitoring visibility:public")
    reply = await h.text("demo-member", 'resource search "hate speech" monitoring')
    assert _titles(reply) == ["Hate speech monitoring"]


def test_url_normalisation() -> None:
    assert normalise_url("HTTPS://Example.ORG:443/report/?utm_source=x&id=3#part")[1] == "example.org/report?id=3"
    assert normalise_url("http://example.org/report")[1] == normalise_url("https://example.org/report/")[1]
    for bad in ("ftp://example.org/x", "javascript:alert(1)", "example.org", "https://", "https://a b.org/"):
        with pytest.raises(ValueError):
            normalise_url(bad)


async def test_add_validates_and_changes_nothing_on_bad_input(h: Harness) -> None:
    before = [row[0] for row in await h.app.db.fetch_all("SELECT id FROM resources ORDER BY id")]
    assert "not a web link" in await h.text("demo-admin", "resource add ftp://example.org/x A title")
    assert "not a language code" in await h.text("demo-admin", "resource add https://example.org/x T lang:xx")
    assert "There is no topic “nope”" in await h.text("demo-admin", "resource add https://example.org/x T topics:nope")
    duplicate = await h.text("demo-admin", "resource add HTTP://WWW.DISINFO.EU/doppelganger?utm_medium=mail T")
    assert "in the library already as #1" in duplicate
    assert [row[0] for row in await h.app.db.fetch_all("SELECT id FROM resources ORDER BY id")] == before


async def test_topic_coordinator_manages_only_their_topics(h: Harness) -> None:
    assert "This needs the coordinator role" in await h.text("demo-member", "resource add https://example.org/m M")
    refused = await h.text("demo-coordinator", "resource add https://example.org/e E topics:elections")
    assert "Only a coordinator of “elections”" in refused
    assert "Say which of your topics" in await h.text("demo-coordinator", "resource add https://example.org/n N")
    new_id = await _add(h, "https://example.org/d Debunk notes topics:disinformation", user="demo-coordinator")
    assert "updated" in await h.text("demo-coordinator", f"resource edit {new_id} title:“Debunking notes”")
    # Resource 2 is in elections and research, which they do not coordinate.
    assert "Only a coordinator of “elections”" in await h.text("demo-coordinator", "resource edit 2 title:X")
    assert "Only a coordinator of" in await h.text("demo-coordinator", "resource remove 2")
    assert "Removed #2" in await h.text("demo-admin", "resource remove 2")
    actions = [row["action"] for row in await h.app.db.fetch_all("SELECT action FROM audit_log ORDER BY id")]
    assert actions[-3:] == ["resource.add", "resource.edit", "resource.remove"]


async def test_edit_changes_search_results(h: Harness) -> None:
    assert "Nothing changed" in await h.text("demo-admin", "resource edit 1 kind:report")
    assert "updated" in await h.text("demo-admin", "resource edit 1 title:“Clones of European newspapers” "
                                                   "tags:clones lang:fr visibility:members")
    assert "Clones of European newspapers" in await h.text("demo-member", "resource search newspapers lang:fr")
    assert "Clones of European" not in await h.text("demo-outsider", "resource search newspapers")
    assert "Doppelganger" not in await h.text("demo-member", "resource search doppelganger media clones")
    assert "Say what to change" in await h.text("demo-admin", "resource edit 1")


async def test_show_and_browse(h: Harness) -> None:
    shown = await h.text("demo-outsider", "resource show 2")
    assert "Tech for Democracy" in shown and "Visible to: everyone" in shown and "/resources elections" in shown
    assert "By topic:" in await h.text("demo-member", "resources")
    assert "Resources in “whrd-safety”" in await h.text("demo-member", "resources whrd-safety")


async def test_french_reader(h: Harness) -> None:
    await h.say("demo-member", "settings language fr")
    reply = await h.text("demo-member", "resource search disinfromation")
    assert "Vouliez-vous dire" in reply and "jeu de données · en" in reply


async def test_next_page_after_a_correction_pages_through_the_correction(h: Harness) -> None:
    first = await h.say("demo-member", "resource search securty")
    assert "Did you mean “security”? Showing results for it." in first.message.plain_text()
    actions = {a.label: a.command for a in first.message.actions}
    assert actions["Next page"] == "resource search page:2 securty"
    second = await h.text("demo-member", actions["Next page"])
    assert "page 2" in second and "no more results" not in second
    assert not set(_titles(second)) & set(_titles(first.message.plain_text()))


@pytest.mark.parametrize("query", ['"qoukka" note', "qoukka-note", "qoukka note"])
async def test_pages_of_a_corrected_query_never_repeat_or_skip(h: Harness, query: str) -> None:
    for n in range(6):
        await _add(h, f"https://example.org/q{n} Quokka note {n} visibility:public")
        await _add(h, f"https://example.org/qs{n} Quokkas note {n} visibility:public")
    seen: list[str] = []
    command = f"resource search {query}"
    while command:
        reply = await h.say("demo-outsider", command)
        seen += _titles(reply.message.plain_text())
        command = next((a.command for a in reply.message.actions if a.label == "Next page"), "")
    assert len(seen) == len(set(seen)) and len(seen) in {6, 12}
    typed = await h.text("demo-outsider", f"resource search {query.replace('qoukka', 'quokka')}")
    assert _titles(typed)[:5] == seen[:5]


async def test_a_suggestion_never_names_a_word_only_hidden_resources_hold(h: Harness) -> None:
    """A visible "Zorblatian" must not vouch for a members-only "Zorblat" through prefix matching."""
    await _add(h, "https://example.org/zh Operation Zorblat debrief topics:disinformation")
    await _add(h, "https://example.org/zp Zorblatian dialects primer topics:disinformation visibility:public")
    outsider = await h.text("demo-outsider", "resource search zorbalt")
    assert "zorblat”" not in outsider.replace("zorblatian”", "")
    assert "Operation Zorblat" not in outsider
    assert "Did you mean “zorblat”?" in await h.text("demo-member", "resource search zorbalt")


async def test_a_word_only_in_hidden_resources_does_not_block_the_suggestion(h: Harness) -> None:
    """Members-only resources spelt "disinfromation" or holding "electron" must not change what an outsider
    is offered (nor reveal that those words exist)."""
    await _add(h, "https://example.org/int Internal disinfromation notes topics:disinformation")
    await _add(h, "https://example.org/em Electron microscopy budget topics:disinformation")
    await _add(h, "https://example.org/eo Election observation primer topics:disinformation visibility:public")
    typo = await h.text("demo-outsider", "resource search disinfromation")
    assert "Did you mean “disinformation”? Showing results for it." in typo
    assert "Internal" not in typo
    second_best = await h.text("demo-outsider", "resource search electon")
    assert "Did you mean “election”? Showing results for it." in second_best
    assert "Election observation primer" in second_best and "microscopy" not in second_best
    member = await h.text("demo-member", "resource search disinfromation")  # members see the misspelt one
    assert "Internal disinfromation notes" in member


async def test_a_corrected_word_still_matches_as_a_prefix(h: Harness) -> None:
    await _add(h, "https://example.org/p1 Quokka census methods visibility:public")
    await _add(h, "https://example.org/p2 Quokkas and their habitats visibility:public")
    typed = await h.text("demo-outsider", "resource search quokka")
    corrected = await h.text("demo-outsider", "resource search qoukka")
    assert _titles(typed) == _titles(corrected) and len(_titles(typed)) == 2


async def test_a_duplicate_link_in_a_hidden_topic_is_not_named(h: Harness) -> None:
    await _add(h, "https://example.org/secret-playbook Secret playbook topics:incident-response")
    before = await h.text("demo-coordinator", "resources")
    reply = await h.text("demo-coordinator",
                         "resource add https://EXAMPLE.org/secret-playbook/ Probe topics:disinformation")
    assert "filed where you cannot see it" in reply and "#" not in reply
    assert await h.text("demo-coordinator", "resources") == before
    visible = await h.text("demo-admin", "resource add https://example.org/secret-playbook Again")
    assert "already as #" in visible  # someone who may see it gets its number


async def test_edit_can_remove_the_summary_and_the_tags(h: Harness) -> None:
    rid = await _add(h, "https://example.org/t Tagged thing summary:“A summary” tags:alpha,beta visibility:public")
    assert "updated" in await h.text("demo-admin", f"resource edit {rid} summary:- tags:-")
    shown = await h.text("demo-outsider", f"resource show {rid}")
    assert "A summary" not in shown and "alpha" not in shown
    assert "Tagged thing" not in await h.text("demo-outsider", "resource search alpha")


@pytest.mark.parametrize("page", ["0", "201"])
async def test_page_out_of_range_says_the_range(h: Harness, page: str) -> None:
    for command in (f"resource search election page:{page}", f"resources page:{page}"):
        assert "“page” must be between 1 and 200." in await h.text("demo-member", command)


@pytest.mark.parametrize("page", ["²", "٣"])
async def test_page_in_other_digits_is_refused_clearly(h: Harness, page: str) -> None:
    reply = await h.text("demo-member", f"resource search election page:{page}")
    assert f"“page” must be a number, not “{page}”." in reply
