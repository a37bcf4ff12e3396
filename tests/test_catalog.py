"""The catalog of AI organisations: its data, the loader's checks, and matching in text."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.catalog import DEFAULT_PATH, Catalog, Mention, default_catalog, fold_name
from monitor.errors import ConfigError


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def found(catalog: Catalog, text: str) -> list[tuple[str, str]]:
    return [(m.org.id, m.surface) for m in catalog.find(text)]


# ── the data ─────────────────────────────────────────────────────────────────


def test_the_catalog_is_large_enough_to_be_useful(catalog: Catalog) -> None:
    assert len(catalog) >= 80
    assert sum(1 + len(org.aliases) for org in catalog) >= 500


def test_every_parent_exists_and_every_chain_ends_at_a_root(catalog: Catalog) -> None:
    for org in catalog:
        if org.parent is not None:
            assert org.parent in catalog, org.id
        assert catalog.root(org).parent is None


def test_no_alias_names_two_organisations(catalog: Catalog) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for org in catalog:
        for alias in (org.name, *org.aliases):
            owners[fold_name(alias)].add(org.id)
    assert {key: ids for key, ids in owners.items() if len(ids) > 1} == {}


def test_ambiguous_aliases_are_also_aliases(catalog: Catalog) -> None:
    seed = catalog.get("bytedance-seed")
    assert "Seed" in seed.ambiguous
    assert "Seed" in seed.aliases
    assert catalog.resolve("Seed") == seed


@pytest.mark.parametrize(
    ("name", "root"),
    [
        ("通义实验室", "alibaba"),
        ("通義實驗室", "alibaba"),
        ("Qwen team", "alibaba"),
        ("Hunyuan", "tencent"),
        ("混元", "tencent"),
        ("FAIR", "meta"),
        ("TBD Lab", "meta"),
        ("JD Explore Academy", "jd"),
        ("京东探索研究院", "jd"),
        ("Doubao", "bytedance"),
        ("DeepMind", "google"),
        ("Noah's Ark Lab", "huawei"),
        ("HyperCLOVA X", "naver"),
        ("LG AI연구원", "lg"),
        ("MSRA", "microsoft"),
    ],
)
def test_units_resolve_to_the_company_that_owns_them(catalog: Catalog, name: str, root: str) -> None:
    org = catalog.resolve(name)
    assert org is not None, name
    assert catalog.root(org).id == root


@pytest.mark.parametrize(
    ("name", "org_id"),
    [
        ("openai", "openai"),
        ("ＯｐｅｎＡＩ", "openai"),
        ("OpenAI's", "openai"),
        ("Tencent’s", "tencent"),
        ("jd com", "jd"),
        ("  Google   DeepMind ", "google-deepmind"),
        ("ETH Zurich", "eth-zurich"),
        ("eth zürich", "eth-zurich"),
        ("騰訊混元", "tencent-hunyuan"),
        ("01 ai", "01ai"),
        ("Thinking Machines", "thinking-machines"),
    ],
)
def test_resolve_ignores_case_width_punctuation_and_script(catalog: Catalog, name: str, org_id: str) -> None:
    org = catalog.resolve(name)
    assert org is not None and org.id == org_id


@pytest.mark.parametrize("name", ["", "   ", "Acme Widgets", "Open", "Tongyi Lab of Widgets", "'s"])
def test_resolve_answers_none_for_what_it_does_not_know(catalog: Catalog, name: str) -> None:
    assert catalog.resolve(name) is None


def test_ai_follows_the_parent_unless_said_otherwise(catalog: Catalog) -> None:
    assert catalog.get("alibaba-tongyi").ai
    assert not catalog.get("tsinghua").ai
    assert not catalog.get("stripe").ai
    assert not catalog.get("linkedin").ai  # a unit of Microsoft, said otherwise
    assert catalog.get("stanford-hai").ai  # an AI lab in a university


# ── hierarchy ────────────────────────────────────────────────────────────────


def test_ancestors_start_with_the_org_itself(catalog: Catalog) -> None:
    tbd = catalog.get("meta-tbd")
    assert [o.id for o in catalog.ancestors(tbd)] == ["meta-tbd", "meta-msl", "meta"]
    assert catalog.root(tbd).name == "Meta"
    alibaba = catalog.get("alibaba")
    assert catalog.ancestors(alibaba) == (alibaba,)


def test_tracking_a_company_covers_its_units_but_not_the_other_way(catalog: Catalog) -> None:
    alibaba, tongyi = catalog.get("alibaba"), catalog.get("alibaba-tongyi")
    cloud = catalog.get("alibaba-cloud")
    assert catalog.covers(alibaba, tongyi)
    assert catalog.covers(alibaba, cloud)
    assert catalog.covers(tongyi, tongyi)
    assert not catalog.covers(tongyi, cloud)
    assert not catalog.covers(tongyi, alibaba)
    assert catalog.covers(catalog.get("meta"), catalog.get("meta-tbd"))
    assert not catalog.covers(alibaba, catalog.get("ant-group"))


def test_children_lists_the_units_directly_below(catalog: Catalog) -> None:
    children = {o.id for o in catalog.children(catalog.get("alibaba"))}
    assert {"alibaba-tongyi", "alibaba-damo", "alibaba-cloud"} <= children
    assert "meta-tbd" not in {o.id for o in catalog.children(catalog.get("meta"))}


# ── finding organisations in text ────────────────────────────────────────────


def test_find_in_english_with_possessives_and_punctuated_names(catalog: Catalog) -> None:
    text = (
        "OpenAI's head of post-training left for Meta Superintelligence Labs, while Tencent’s "
        "cloud arm and Google’s Hunyuan rival hired from JD.com, 01.AI and xAI."
    )
    assert found(catalog, text) == [
        ("openai", "OpenAI"),
        ("meta-msl", "Meta Superintelligence Labs"),
        ("tencent", "Tencent"),
        ("google", "Google"),
        ("tencent-hunyuan", "Hunyuan"),
        ("jd", "JD.com"),
        ("01ai", "01.AI"),
        ("xai", "xAI"),
    ]


def test_find_prefers_the_longest_alias(catalog: Catalog) -> None:
    assert found(catalog, "She joins Google DeepMind.") == [("google-deepmind", "Google DeepMind")]
    assert found(catalog, "He left Tencent’s Hunyuan.") == [("tencent-hunyuan", "Tencent’s Hunyuan")]
    assert found(catalog, "阿里巴巴通义实验室") == [("alibaba-tongyi", "阿里巴巴通义实验室")]
    assert found(catalog, "腾讯混元大模型团队负责人离职") == [("tencent-hunyuan", "腾讯混元大模型团队")]
    assert found(catalog, "京东方的工程师") == [("boe", "京东方")]


def test_find_falls_back_to_a_shorter_alias_when_the_longer_runs_into_a_word(catalog: Catalog) -> None:
    assert found(catalog, "Tencent AI Labs") == [("tencent", "Tencent")]


@pytest.mark.parametrize(
    "text",
    [
        "The Metaverse is back, and he Googled it.",
        "A meta-analysis of apple pie recipes at scale.",
        "The startup closed a seed round at an inflection point.",
        "An adept engineer moved the cursor along the runway.",
        "X-ray images of a character in H minor.",
        "Figure 3 shows the Reflection of a Gemini spacecraft.",
        "Claude Monet painted the Seed of doubt.",
        "An OpenAIs typo, Googles of data and the Metaverse.",
        "Scale matters. Runway lights, Cursor keys and Adept hands.",
        "Meta-analysis: Apple pie in the Big Apple, then the Amazon rainforest.",
        "Released under the MIT License, says MIT Technology Review.",
        "An X-ray of the Series X.",
        "메타버스 열풍과 파인애플",
        "阿里山的小米粥",
    ],
)
def test_ordinary_words_are_not_organisations(catalog: Catalog, text: str) -> None:
    assert found(catalog, text) == []


def test_an_ambiguous_alias_counts_when_its_company_is_named(catalog: Catalog) -> None:
    assert found(catalog, "ByteDance lost a Seed team lead; Seed declined to comment.") == [
        ("bytedance", "ByteDance"),
        ("bytedance-seed", "Seed team"),
        ("bytedance-seed", "Seed"),
    ]
    assert found(catalog, "A Seed lead left for the Doubao team.") == [
        ("bytedance-seed", "Seed"),
        ("bytedance-seed", "Doubao team"),
    ]
    assert found(catalog, "Gemini lost a lead to Anthropic.") == [("anthropic", "Anthropic")]
    assert found(catalog, "Google's Gemini lost a lead.") == [
        ("google", "Google"),
        ("google-deepmind", "Gemini"),
    ]
    assert found(catalog, "Runway ML hired from Runway's rival.") == [
        ("runway", "Runway ML"),
        ("runway", "Runway"),
    ]
    assert found(catalog, "Twitter, now X, lost staff to xAI.") == [
        ("x-corp", "Twitter"),
        ("x-corp", "X"),
        ("xai", "xAI"),
    ]
    assert found(catalog, "Cursor poached two engineers.") == []
    assert found(catalog, "Anysphere's Cursor poached two engineers.") == [
        ("anysphere", "Anysphere"),
        ("anysphere", "Cursor"),
    ]


def test_a_not_names_phrase_hides_only_itself(catalog: Catalog) -> None:
    assert found(catalog, "MIT researchers, MIT License aside, joined Meta; Meta-analysis aside.") == [
        ("mit", "MIT"),
        ("meta", "Meta"),
    ]
    assert found(catalog, "메타의 연구원이 메타버스 부서를 떠났다") == [("meta", "메타")]
    assert found(catalog, "三星堆考古队员加入三星电子") == [("samsung", "三星电子")]


def test_find_in_simplified_and_traditional_chinese(catalog: Catalog) -> None:
    simplified = "阿里巴巴旗下通义实验室语音负责人离职，加入京东探索研究院；此前曾短暂加盟腾讯。"
    assert found(catalog, simplified) == [
        ("alibaba", "阿里巴巴"),
        ("alibaba-tongyi", "通义实验室"),
        ("jd-explore", "京东探索研究院"),
        ("tencent", "腾讯"),
    ]
    traditional = "阿里巴巴旗下通義實驗室語音負責人離職，加入京東探索研究院；此前曾短暫加盟騰訊。"
    assert [org for org, _ in found(catalog, traditional)] == [
        "alibaba",
        "alibaba-tongyi",
        "jd-explore",
        "tencent",
    ]


def test_folded_text_keeps_the_offsets_of_the_original(catalog: Catalog) -> None:
    text = "据悉，騰訊混元與ＯｐｅｎＡＩ都在招人。"
    mentions = catalog.find(text)
    assert [(m.org.id, m.surface) for m in mentions] == [
        ("tencent-hunyuan", "騰訊混元"),
        ("openai", "ＯｐｅｎＡＩ"),
    ]
    assert all(text[m.start : m.end] == m.surface for m in mentions)


def test_find_in_japanese(catalog: Catalog) -> None:
    text = "グーグルの研究者がサカナAIに移籍し、メタバース事業ではなくオープンAIジャパンへ。"
    assert found(catalog, text) == [
        ("google", "グーグル"),
        ("sakana-ai", "サカナAI"),
        ("openai-japan", "オープンAIジャパン"),
    ]


def test_find_in_korean(catalog: Catalog) -> None:
    text = "네이버클라우드 출신 연구원이 LG AI연구원을 떠나 구글의 딥마인드로 이직했다. 파인애플은 아니다."
    assert found(catalog, text) == [
        ("naver-cloud", "네이버클라우드"),
        ("lg-ai-research", "LG AI연구원"),
        ("google", "구글"),
        ("google-deepmind", "딥마인드"),
    ]


def test_mixed_scripts_name_both_sides(catalog: Catalog) -> None:
    assert found(catalog, "字节跳动Seed团队") == [("bytedance-seed", "字节跳动Seed团队")]
    assert found(catalog, "字节跳动的Seed") == [("bytedance", "字节跳动"), ("bytedance-seed", "Seed")]


def test_find_on_text_without_organisations(catalog: Catalog) -> None:
    assert catalog.find("") == []
    assert catalog.find("Nothing to see here, 今天天气很好.") == []


@given(st.text(alphabet=st.sampled_from(list("abc XAIGoogle'’.通义实验室阿里巴巴ＯＡ-Seed")), max_size=80))
def test_mentions_are_ordered_disjoint_and_point_into_the_text(text: str) -> None:
    catalog = default_catalog()
    mentions = catalog.find(text)
    end = 0
    for mention in mentions:
        assert isinstance(mention, Mention)
        assert end <= mention.start < mention.end
        assert text[mention.start : mention.end] == mention.surface
        end = mention.end


# ── loading ──────────────────────────────────────────────────────────────────


def test_default_catalog_is_read_once() -> None:
    assert default_catalog() is default_catalog()
    assert DEFAULT_PATH.name == "catalog.toml"


def test_a_user_catalog_extends_and_overrides_the_default(tmp_path: Path) -> None:
    mine = tmp_path / "my-catalog.toml"
    mine.write_text(
        """
[alibaba-tongyi]
aliases = ["Tongyi lab of Alibaba"]

[alibaba-tongyi-speech]
name = "Tongyi Speech Lab"
parent = "alibaba-tongyi"
kind = "unit"
aliases = ["通义语音实验室"]

[stripe]
name = "Stripe"
kind = "company"
ai = true
""",
        encoding="utf-8",
    )
    catalog = Catalog.load([DEFAULT_PATH, mine])
    assert len(catalog) == len(default_catalog()) + 1
    tongyi = catalog.get("alibaba-tongyi")
    assert "Tongyi lab of Alibaba" in tongyi.aliases and "通义实验室" in tongyi.aliases
    assert catalog.get("stripe").ai
    speech = catalog.resolve("通义语音实验室")
    assert speech is not None and catalog.root(speech).id == "alibaba"
    assert catalog.covers(tongyi, speech)
    assert found(catalog, "He left the Tongyi lab of Alibaba for the Tongyi Speech Lab.") == [
        ("alibaba-tongyi", "Tongyi lab of Alibaba"),
        ("alibaba-tongyi-speech", "Tongyi Speech Lab"),
    ]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[a\nname = 'A'", "not valid TOML"),
        ("[a]\nname = 'A'\nkind = 'lab'\nparent = 'nowhere'\n", "[a] parent 'nowhere' is not a table"),
        (
            "[a]\nname = 'A'\nkind = 'lab'\nparent = 'b'\n[b]\nname = 'B'\nkind = 'lab'\nparent = 'a'\n",
            "[a] parent chain makes a cycle: a → b → a",
        ),
        (
            "[a]\nname = 'A'\nkind = 'lab'\naliases = ['Same']\n[b]\nname = 'B'\nkind = 'lab'\naliases = ['SAME']\n",
            "[b] alias 'SAME' also names [a]",
        ),
        ("[a]\nname = 'A'\nkind = 'lab'\nalias = ['A lab']\n", "[a] unknown key 'alias'"),
        ("[a]\nname = 'A'\nkind = 'shop'\n", "[a] kind must be one of"),
        ("[a]\nkind = 'lab'\n", "[a] needs a name"),
        ("[a]\nname = 'A'\nkind = 'lab'\nai = 'yes'\n", "[a] ai must be true or false"),
        ("[a]\nname = 'A'\nkind = 'lab'\naliases = 'A lab'\n", "[a] aliases must be a list"),
        ("a = 1\n", "[a] must be a table"),
        (
            "[a]\nname = 'A'\nkind = 'lab'\n[b]\nname = 'B'\nkind = 'lab'\nnot_names = ['A']\n",
            "[b] not_names 'A' is an alias of [a]",
        ),
    ],
)
def test_a_bad_catalog_is_refused_naming_the_file_and_the_table(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        Catalog.load([path])
    assert raised.value.path == str(path)
    assert any(problem in p for p in raised.value.problems), raised.value.problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "[a]\nkind = 'shop'\n[b]\nname = 'B'\nkind = 'lab'\nparent = 'c'\n")
    with pytest.raises(ConfigError) as raised:
        Catalog.load([path])
    assert len(raised.value.problems) == 3


def test_a_user_file_clashing_with_the_default_is_blamed(tmp_path: Path) -> None:
    path = write(tmp_path, "[my-lab]\nname = 'My Lab'\nkind = 'lab'\naliases = ['Tongyi Lab']\n")
    with pytest.raises(ConfigError) as raised:
        Catalog.load([DEFAULT_PATH, path])
    assert raised.value.path == str(path)
    assert "[my-lab] alias 'Tongyi Lab' also names [alibaba-tongyi]" in raised.value.problems


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        Catalog.load([tmp_path / "absent.toml"])
