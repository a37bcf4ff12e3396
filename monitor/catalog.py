"""The catalog of AI organisations: who is who, which unit belongs to whom.

The classifier asks it which organisations a text names (``find``) and what a
name it extracted stands for (``resolve``); the alert rules ask whether a
tracked lab ``covers`` an event's organisation, so that tracking Alibaba also
catches a departure from Tongyi Lab while tracking Tongyi Lab does not catch
one from Alibaba Cloud.

The data lives in ``config/catalog.toml``; its header states the matching
rules users rely on when they extend it. Users may layer their own files on
top (``Catalog.load([DEFAULT_PATH, mine])``): a later table with a known id
adds aliases to it and overrides the fields it sets, a new id adds an
organisation.

``find`` runs once per article on the classifier's hot path, so every alias is
compiled at load time into one regex shaped like a trie (shared prefixes
factored out, longer continuations tried first). Python's ``re`` then skips
quickly over positions whose character starts no alias, and a match is the
longest alias at the leftmost position with no second pass.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "catalog.toml"

KINDS = frozenset({"company", "lab", "unit", "startup", "university", "government", "other"})
_KEYS = frozenset({"name", "parent", "kind", "ai", "aliases", "ambiguous", "not_names"})
_LISTS = ("aliases", "ambiguous", "not_names")

# Traditional → simplified for the characters that occur in organisation
# names. One character for one, so offsets in a folded text stay those of the
# original; a full converter (OpenCC) would be a heavy dependency for names.
_TRADITIONAL = (
    "義實驗騰訊雲華為東團隊際節動畫數據與區醫學學國臺灣開發們機器習達摩億萬麼"
    "歷獎領導職務員銷營業視頻聯訊網絡車電腦產資訊調科技創業務語聲識覺圖處"
    "體層雙異構軟蘋亞馬遜貝殼強個軍師舉點擊問題頭條廣場變項園縣區團隊級際飛書"
    "鏡螞蟻幣銀龍門階躍遠傳興極顯兒塊鏈車輛駕駛愛樂鳥雞氣象風險雜誌報紙紀錄"
    "獨麥葉臉礎偉維爾寶貓優蘿蔔譜諾盤湯曠靈嗶鵬來線樹頓劍橋倫復術內從專陸蘇會組織經濟總長"
    "監負責離認證協議錢辦歸騎"
)
_SIMPLIFIED = (
    "义实验腾讯云华为东团队际节动画数据与区医学学国台湾开发们机器习达摩亿万么"
    "历奖领导职务员销营业视频联讯网络车电脑产资讯调科技创业务语声识觉图处"
    "体层双异构软苹亚马逊贝壳强个军师举点击问题头条广场变项园县区团队级际飞书"
    "镜蚂蚁币银龙门阶跃远传兴极显儿块链车辆驾驶爱乐鸟鸡气象风险杂志报纸纪录"
    "独麦叶脸础伟维尔宝猫优萝卜谱诺盘汤旷灵哔鹏来线树顿剑桥伦复术内从专陆苏会组织经济总长"
    "监负责离认证协议钱办归骑"
)

# Folding for ``find``: only one-character-for-one replacements, so that the
# offsets of a match in the folded text are offsets in the original.
_FIND_TABLE: dict[int, str] = {0xFF01 + i: chr(0x21 + i) for i in range(0x5E)}  # full-width ASCII
_FIND_TABLE.update(
    {ord(c): " " for c in "\u00a0\u2002\u2003\u2009\u200a\u202f\u3000"}
    | {ord(c): "'" for c in "\u2018\u2019\u02bc\uff07"}
    | {ord(c): "-" for c in "\u2010\u2011\u2012\u2013"}
    | {ord(t): s for t, s in zip(_TRADITIONAL, _SIMPLIFIED, strict=True) if t != s}
)

# Edge classes: an alias whose edge character belongs to one must not touch
# another character of the same class on that side, so "Google" stays out of
# "Googled", "メタ" out of "メタバース" and "애플" out of "파인애플". Hangul is
# checked on the left only, since Korean particles follow a name directly
# ("구글의"); Chinese characters are not checked at all, Chinese having no
# spaces: "字节跳动Seed团队" names both ByteDance and Seed.
_LATIN = "0-9A-Za-z\u00C0-\u024F_"
_KATAKANA = "\u30A1-\u30FA\u30FC"
_HANGUL = "\uAC00-\uD7A3\u1100-\u11FF\u3131-\u318E"
_EDGES: tuple[tuple[re.Pattern[str], str, bool], ...] = (
    (re.compile(f"[{_LATIN}]"), _LATIN, True),
    (re.compile(f"[{_KATAKANA}]"), _KATAKANA, True),
    (re.compile(f"[{_HANGUL}]"), _HANGUL, False),
)
_POSSESSIVE = re.compile(r"(?:'s|')$")


@dataclass(frozen=True, slots=True)
class Org:
    """One organisation or unit; ``parent`` is the id of the one it belongs to."""

    id: str
    name: str
    parent: str | None
    kind: str
    ai: bool
    aliases: tuple[str, ...]
    ambiguous: tuple[str, ...] = ()  # aliases that count only with a relative named nearby
    not_names: tuple[str, ...] = ()  # phrases holding an alias that do not name it ("MIT License")


@dataclass(frozen=True, slots=True)
class Mention:
    """Where a text names an organisation; offsets index the text as given."""

    org: Org
    start: int
    end: int
    surface: str


def fold_name(name: str) -> str:
    """The key under which ``resolve`` compares whole names.

    Case, accents, width, punctuation, spacing and traditional script make no
    difference: "JD.com", "jd com" and "ＪＤ．ＣＯＭ" are one name, and so are
    "通義實驗室" and "通义实验室".
    """
    text = unicodedata.normalize("NFKD", name.translate(_FIND_TABLE)).casefold()
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c))


_FOLDABLE = re.compile("[" + re.escape("".join(map(chr, _FIND_TABLE))) + "]")


def _find_fold(text: str) -> str:
    """``text.translate(_FIND_TABLE)``, several times faster on news text.

    Most characters map to themselves, so replacing only the few that do not
    beats translating every one; English text often needs nothing at all.
    """
    if text.isascii():
        return text
    return _FOLDABLE.sub(lambda match: _FIND_TABLE[ord(match.group())], text)


def _collapse_spaces(text: str) -> str:
    return " ".join(text.split())


class Catalog:
    """An immutable set of organisations with their aliases and hierarchy."""

    def __init__(self, orgs: Mapping[str, Org]) -> None:
        """Build the lookups from already validated organisations (see ``load``)."""
        self._orgs = dict(orgs)
        self._by_name: dict[str, Org] = {}
        self._by_surface: dict[str, Org | None] = {}
        self._ambiguous: set[str] = set()
        for org in self._orgs.values():
            for alias in (org.name, *org.aliases):
                self._by_name.setdefault(fold_name(alias), org)
                self._by_surface.setdefault(_collapse_spaces(_find_fold(alias)), org)
            for alias in org.ambiguous:
                self._ambiguous.add(_collapse_spaces(_find_fold(alias)))
            for phrase in org.not_names:
                self._by_surface.setdefault(_collapse_spaces(_find_fold(phrase)), None)
        # Two scans, not one: ``re`` tries a position against every first character of the
        # trie in turn, and the hundreds of Chinese, Japanese and Korean ones would be tried at
        # every capital of an English text. ASCII text needs the Latin scan only.
        self._latin = _trie_regex(s for s in self._by_surface if s[:1] < "\u0250")
        self._other = _trie_regex(s for s in self._by_surface if s[:1] >= "\u0250")
        self._roots = {org_id: self.root(org).id for org_id, org in self._orgs.items()}

    @classmethod
    def load(cls, paths: Sequence[Path] = (DEFAULT_PATH,)) -> Catalog:
        """Read and check catalog files; later files extend or override earlier ones.

        Every problem found is reported at once, naming the table, so a user
        fixing their file sees the whole list rather than one error per run.
        """
        tables: dict[str, dict[str, Any]] = {}
        origin: dict[str, str] = {}
        for path in paths:
            _merge_file(Path(path), tables, origin)
        problems = _check(tables, origin)
        if problems:
            first = problems[0][0]
            raise ConfigError(
                first, [text if where == first else f"{where}: {text}" for where, text in problems]
            )
        return cls({org_id: _to_org(org_id, table, tables) for org_id, table in tables.items()})

    def __len__(self) -> int:
        return len(self._orgs)

    def __iter__(self) -> Iterator[Org]:
        return iter(self._orgs.values())

    def __contains__(self, org_id: object) -> bool:
        return org_id in self._orgs

    def get(self, org_id: str) -> Org:
        """The organisation with this id; KeyError names it when unknown."""
        return self._orgs[org_id]

    def resolve(self, name: str) -> Org | None:
        """The organisation a whole name stands for, or None.

        A trailing possessive ("OpenAI's") is dropped; otherwise the name must
        be one of the organisation's names or aliases after folding.
        """
        org = self._by_name.get(fold_name(name))
        if org is None:
            stripped = _POSSESSIVE.sub("", _find_fold(name).strip())
            org = self._by_name.get(fold_name(stripped)) if stripped else None
        return org

    def find(self, text: str) -> list[Mention]:
        """Every organisation the text names, in text order, longest alias first.

        An ambiguous alias ("Seed", "Gemini", "Cursor") counts only when the
        same text also names its organisation, an ancestor or a unit of the
        same root with an unambiguous alias.
        """
        folded = _find_fold(text)
        found: list[tuple[Mention, bool]] = []
        matches = list(self._latin.finditer(folded))
        if not folded.isascii():
            matches = _in_one_scan(matches, list(self._other.finditer(folded)))
        for match in matches:
            key = _collapse_spaces(match.group())
            org = self._by_surface[key]
            if org is None:  # a not_names phrase: it hides the alias inside it
                continue
            mention = Mention(org, match.start(), match.end(), text[match.start() : match.end()])
            found.append((mention, key in self._ambiguous))
        if not any(ambiguous for _, ambiguous in found):
            return [mention for mention, _ in found]
        sure_roots = {self._roots[m.org.id] for m, ambiguous in found if not ambiguous}
        return [m for m, ambiguous in found if not ambiguous or self._roots[m.org.id] in sure_roots]

    def root(self, org: Org) -> Org:
        """The top-most parent: Alibaba for Tongyi Lab, Tongyi Lab's Qwen team alike."""
        return self.ancestors(org)[-1]

    def ancestors(self, org: Org) -> tuple[Org, ...]:
        """The organisation itself first, then each parent up to the root."""
        chain = [org]
        while chain[-1].parent is not None:
            chain.append(self._orgs[chain[-1].parent])
        return tuple(chain)

    def children(self, org: Org) -> tuple[Org, ...]:
        """The units directly below an organisation, in catalog order."""
        return tuple(o for o in self._orgs.values() if o.parent == org.id)

    def covers(self, lab: Org, org: Org) -> bool:
        """Whether tracking ``lab`` concerns ``org``: it is the lab or a unit below it."""
        return any(a.id == lab.id for a in self.ancestors(org))


@functools.cache
def default_catalog() -> Catalog:
    """The built-in catalog, read once per process."""
    return Catalog.load()


# ── loading ──────────────────────────────────────────────────────────────────


def _merge_file(path: Path, tables: dict[str, dict[str, Any]], origin: dict[str, str]) -> None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the catalog: {exc.strerror or exc}"]) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from exc
    problems: list[str] = []
    for org_id, table in data.items():
        if not isinstance(table, dict):
            problems.append(f"[{org_id}] must be a table, not a {type(table).__name__}")
            continue
        merged = tables.setdefault(org_id, {})
        for key, value in table.items():
            if key in _LISTS and isinstance(value, list) and key in merged:
                merged[key] = [*merged[key], *value]
            else:
                merged[key] = value
        origin[org_id] = str(path)
    if problems:
        raise ConfigError(str(path), problems)


def _check(tables: Mapping[str, Mapping[str, Any]], origin: Mapping[str, str]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []

    def problem(org_id: str, text: str) -> None:
        problems.append((origin[org_id], f"[{org_id}] {text}"))

    for org_id, table in tables.items():
        for key in sorted(set(table) - _KEYS):
            problem(org_id, f"unknown key {key!r} (known: {', '.join(sorted(_KEYS))})")
        if not isinstance(table.get("name"), str) or not table["name"].strip():
            problem(org_id, "needs a name (a non-empty string)")
        if table.get("kind") not in KINDS:
            problem(org_id, f"kind must be one of {', '.join(sorted(KINDS))}, not {table.get('kind')!r}")
        if "ai" in table and not isinstance(table["ai"], bool):
            problem(org_id, "ai must be true or false")
        for key in _LISTS:
            value = table.get(key, [])
            if not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value):
                problem(org_id, f"{key} must be a list of non-empty strings")
        parent = table.get("parent")
        if parent is not None and parent not in tables:
            problem(org_id, f"parent {parent!r} is not a table in the catalog")
    if problems:
        return problems
    for org_id in tables:
        seen = [org_id]
        while (parent := tables[seen[-1]].get("parent")) is not None:
            if parent in seen:
                problem(org_id, "parent chain makes a cycle: " + " → ".join([*seen, parent]))
                break
            seen.append(parent)
    owner: dict[str, str] = {}
    for org_id, table in tables.items():
        for alias in (table["name"], *table.get("aliases", []), *table.get("ambiguous", [])):
            key = fold_name(alias) or _collapse_spaces(alias)
            other = owner.setdefault(key, org_id)
            if other != org_id:
                problem(org_id, f"alias {alias!r} also names [{other}]")
        for phrase in table.get("not_names", []):
            other = owner.get(fold_name(phrase) or _collapse_spaces(phrase), org_id)
            if other != org_id:
                problem(org_id, f"not_names {phrase!r} is an alias of [{other}]")
    return problems


def _to_org(org_id: str, table: Mapping[str, Any], tables: Mapping[str, Mapping[str, Any]]) -> Org:
    ambiguous = tuple(dict.fromkeys(table.get("ambiguous", [])))
    aliases = tuple(a for a in dict.fromkeys(table.get("aliases", [])) if a not in ambiguous)
    return Org(
        id=org_id,
        name=table["name"],
        parent=table.get("parent"),
        kind=table["kind"],
        ai=_inherited_ai(org_id, tables),
        aliases=(*aliases, *ambiguous),
        ambiguous=ambiguous,
        not_names=tuple(dict.fromkeys(table.get("not_names", []))),
    )


def _inherited_ai(org_id: str, tables: Mapping[str, Mapping[str, Any]]) -> bool:
    """``ai`` as written, else the parent's, else true: a unit shares its owner's nature."""
    table = tables[org_id]
    while "ai" not in table:
        parent = table.get("parent")
        if parent is None:
            return True
        table = tables[parent]
    return bool(table["ai"])


# ── the matcher ──────────────────────────────────────────────────────────────


def _in_one_scan(a: list[re.Match[str]], b: list[re.Match[str]]) -> list[re.Match[str]]:
    """Matches of two scans as one scan of both patterns finds them: in order, none overlapping."""
    if not a or not b:
        return a or b
    out: list[re.Match[str]] = []
    end = 0
    for match in sorted(a + b, key=lambda m: m.start()):
        if match.start() >= end:
            out.append(match)
            end = match.end()
    return out


def _trie_regex(surfaces: Iterable[str]) -> re.Pattern[str]:
    """One alternation shaped as a trie, with the edges checked per alias (see _EDGES).

    The check on the left sits after the first character, so that every
    branch starts with a literal and ``re`` can skip positions that start no
    alias by a character-set test.
    """
    trie: dict[str, Any] = {}
    for surface in surfaces:
        node = trie
        for char in surface:
            node = node.setdefault(char, {})
        node[""] = True
    if not trie:
        return re.compile(r"(?!x)x")
    branches = []
    for char in sorted(trie):
        branches.append(_atom(char) + _left_edge(char) + _subtrie(trie[char], char))
    return re.compile("|".join(branches))


def _subtrie(node: Mapping[str, Any], last: str) -> str:
    branches = [_atom(char) + _subtrie(child, char) for char, child in sorted(node.items()) if char]
    if "" in node:
        branches.append(_right_edge(last))
    if len(branches) == 1:
        return branches[0]
    return "(?:" + "|".join(branches) + ")"


def _left_edge(first: str) -> str:
    for pattern, chars, _ in _EDGES:
        if pattern.fullmatch(first):
            return f"(?<![{chars}].)"
    return ""


def _right_edge(last: str) -> str:
    for pattern, chars, both_sides in _EDGES:
        if both_sides and pattern.fullmatch(last):
            return f"(?![{chars}])"
    return ""


def _atom(char: str) -> str:
    return r"\s+" if char == " " else re.escape(char)
