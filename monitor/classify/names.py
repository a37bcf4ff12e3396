"""Finding people's names in a sentence, in Latin script, Chinese, Japanese and Korean.

No statistical tagger: news about personnel writes names in a few fixed
shapes, and those shapes are cheap to test. Latin names are runs of
capitalised words (initials, particles, hyphens, accents, a "(Tony)"
nickname). Chinese names are a known surname plus one or two characters,
accepted only where a name can stand (after a title, punctuation or a
marker; before a verb, a title or punctuation). Japanese names stand before
氏/さん; Korean names are three-syllable words next to a title.

``aliases`` adds the spellings the merge stage and the scorer compare:
pinyin in both orders for a Chinese name, the swapped order for a pinyin one.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from monitor.romanise import romanise

# ── Chinese ──────────────────────────────────────────────────────────────────

_SURNAMES_1 = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴"
    "霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑"
    "景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
    "官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井"
    "祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆"
    "茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由鱼"
    "陳楊黃趙張劉吳週許韓馮鄧蕭葉蘇魏呂沈盧薑崔鍾譚陸範賈韋鄒孟熊邱尹薛閻雷龍陶賀顧毛龔邵萬錢嚴覃湯溫齊喬顏"
    "聶魯嶽詹歐蘭鄭梁謝羅孫馬鄔惠鬱"
)
# The compound surnames safe to look for in running text; ``monitor.romanise`` knows more
# ("第五", "百里" are words far more often than names), for reading names already found.
_SURNAMES_2 = {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文",
               "司徒", "夏侯", "歐陽", "司馬", "諸葛", "端木", "独孤", "南宫", "西门", "澹台", "拓跋"}
_SURNAME_START = re.compile("[" + "".join(sorted(_SURNAMES_1 | {s[0] for s in _SURNAMES_2})) + "]")
# Characters that start what follows a name rather than belong to it.
_AFTER_NAME = set(
    "离加出已于将也的在称表宣任从被和与等担曾此入辞接回以向为"
    "是说认即于正则亦并及、，。：:；（(“\"」』将均都还透因"
)
_BEFORE_NAME = set("、，。：:；（(“\"「『前原由和与及向将把让对据被的年月日 ")
# Words that look like a surname plus a character but are common vocabulary.
_NOT_HAN_NAME = {
    "尚不", "尚未", "尚无", "尚無", "尚在", "尚且", "尚待",
    "高级", "高管", "王牌", "李某", "张某", "周年", "周内", "周末", "本周", "于是", "于今", "马上", "金融", "石油",
    "方面", "方向", "方式", "方案", "白宫", "万元", "万亿", "文心", "明星", "明年", "明确", "安全", "华为", "黄金",
    "全球", "全体", "全面", "全员", "全部", "时间", "时代", "时候", "国际", "国内", "国产", "国家", "海外", "海内",
    "元宝", "云端", "成立", "成为", "成员", "成果", "成本", "和平", "平台", "原本", "原因", "常务", "管理", "管控",
    "向来", "华人", "谷歌", "雷军", "阿里", "米哈", "车型", "车企", "毕业", "曾经", "曾任", "曾在", "应用", "应对",
    "都是", "都有", "连续", "连接", "花费", "宁德", "支持", "支付", "计划", "计算", "单位", "信息", "信号", "展示",
    "司机", "公司", "公开", "公布", "公告", "公众", "商业", "商汤", "师兄", "初创", "门户", "由于", "甘愿", "任务",
    "任职", "任命", "包括", "程序", "史上", "邵氏", "夏季", "秦朝", "乐观", "能力", "路线", "路径", "战略", "战队",
    "利用", "利润", "居然", "元老", "解决", "解读", "于此", "江湖", "龙头", "祝贺", "孔子", "向上", "向外", "苏州",
    "沈阳", "杭州", "齐心", "成都", "武汉", "温度", "宋体", "房产", "游戏", "项目", "简历", "车辆", "司法", "常见",
    "安排", "严格", "庞大", "冷静", "费用", "何时", "何况", "任何", "钱包", "于今年", "时任", "林业", "陆续", "边界",
    "首席", "任首", "任期", "高层", "高端", "高效", "高度", "云计", "云服", "金额", "万人", "百度",
    "文章", "方法", "向其", "和其", "明显", "华东", "华南", "华北", "海南", "蒋介", "段落", "步骤", "左右",
}


class Name(NamedTuple):
    """A person's name found in a sentence; offsets index that sentence (immutable, like Cue)."""

    text: str
    start: int
    end: int
    script: str  # "latin", "han", "ja", "ko"
    nickname: str | None = None


def _han_names(sentence: str, taken: list[tuple[int, int]]) -> list[Name]:
    out: list[Name] = []
    i = 0
    n = len(sentence)
    while i < n:
        found = _SURNAME_START.search(sentence, i)  # in C: most characters start no surname
        if found is None:
            break
        i = found.start()
        if sentence[i : i + 2] in _SURNAMES_2:
            slen = 2
        elif sentence[i] in _SURNAMES_1:
            slen = 1
        else:
            i += 1
            continue
        if any(s <= i < e for s, e in taken) or (i > 0 and not _before_ok(sentence, i)):
            i += 1
            continue
        best: Name | None = None
        for given in (2, 1):
            end = i + slen + given
            if end > n or not all("\u4e00" <= c <= "\u9fff" for c in sentence[i + slen : end]):
                continue
            cand = sentence[i:end]
            if cand in _NOT_HAN_NAME or cand[:2] in _NOT_HAN_NAME:
                continue
            if given == 2 and sentence[i + slen + 1] in _AFTER_NAME and sentence[i + slen] not in _AFTER_NAME:
                continue  # "李莹即日" → the name is 李莹
            if any(s < end and i < e for s, e in taken):
                continue
            if end == n or _after_ok(sentence, end):
                best = Name(cand, i, end, "han")
                break
        if best is not None:
            out.append(best)
            i = best.end
        else:
            i += 1
    return out


def _before_ok(sentence: str, i: int) -> bool:
    prev = sentence[i - 1]
    return prev in _BEFORE_NAME or not ("\u4e00" <= prev <= "\u9fff") or _role_end(sentence, i)


_ROLE_SUFFIXES = ("负责人", "負責人", "科学家", "科學家", "创始人", "創始人", "总裁", "總裁", "副总裁", "CEO",
                  "CTO", "CIO", "COO", "CFO", "VP", "主管", "总监", "總監", "博士", "教授", "研究员", "研究員",
                  "工程师", "工程師", "老将", "老將", "专家", "專家", "主任", "院长", "院長", "董事长", "董事長",
                  "合伙人", "合夥人", "成员", "成員", "高管", "经理", "經理", "大将", "大將", "领军人", "后",
                  "前员工", "前員工", "技术官", "技術官", "执行官", "執行官", "信息官", "架构师", "研究科学家",
                  "联合创始人", "聯合創始人", "掌门人", "掌門人", "核心", "人物", "员工", "員工", "另一位", "同事")
_VERB_STARTS = ("离", "離", "加", "出", "已", "于", "將", "将", "也", "的", "在", "称", "稱", "表", "宣", "任",
                "从", "從", "被", "和", "与", "與", "等", "担", "擔", "曾", "此", "入", "辞", "辭", "接", "回",
                "向", "为", "為", "是", "说", "說", "认", "認", "即", "正", "亦", "并", "並", "及", "均", "都",
                "还", "還", "透", "確", "确", "批", "转", "轉", "投", "赴", "告", "退", "卸", "带", "帶", "主",
                "负", "負", "领", "領", "近", "日", "今", "于", "现", "現", "本", "同", "目", "当", "當", "一",
                "随", "隨", "因", "对", "對", "所", "则", "則", "则", "拟", "擬", "或", "其", "上", "下",
                "首", "直", "先", "后", "後", "创", "創", "发", "發", "致", "指", "之", "们", "們", "这", "這",
                "这", "那", "就", "共", "更")


_ROLE_END = re.compile("(?:" + "|".join(map(re.escape, _ROLE_SUFFIXES)) + ")$")
_ANY_HAN = re.compile(r"[\u4e00-\u9fff]")


def _role_end(sentence: str, i: int) -> bool:
    return _ROLE_END.search(sentence, max(0, i - 6), i) is not None


def _after_ok(sentence: str, end: int) -> bool:
    nxt = sentence[end]
    if not ("\u4e00" <= nxt <= "\u9fff"):
        return True
    return sentence.startswith(_VERB_STARTS, end) or sentence.startswith(_ROLE_SUFFIXES, end)


# ── Japanese and Korean ──────────────────────────────────────────────────────

_JA_NAME = re.compile(
    r"((?!々)[\u4e00-\u9fff々]{2,6}?|[\u30a0-\u30ff]{2,12}(?:[・＝][\u30a0-\u30ff]{2,12})+)"
    r"(?:氏|さん|准教授|特任教授|名誉教授|教授|博士)"
)
_KO_SURNAMES = set(
    "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나지엄채원천방공현함변염"
    "여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부가복태목형계피두감음빈동온호범좌팽승간상시갈"
)
_KO_WORD = re.compile(r"(?<![\uac00-\ud7a3])([\uac00-\ud7a3]{3})(?:은|는|이|가|을|를|의|씨|도)?(?![\uac00-\ud7a3])")
_KO_TITLE = re.compile(
    r"^[^,.]{0,24}?(?:장|수석|대표|사장|소장|교수|박사|연구원|이사|위원|총괄|책임자|의원|장관|씨|CEO|CTO|리더|팀장|창업자"
    r"|상무|전무|개발자|엔지니어|디렉터|고문|CFO|COO|CPO|CSO)"
    r"(?:[은는이가을를의]|\s|,|$)"
)
_KO_NOT = {"대통령", "연구원", "이사회", "부사장", "사장단", "관계자", "전문가", "수석은", "정부가", "기업들",
           "이끌던", "이끌고", "이끌어", "이끄는", "이끌며", "주도한", "주도해", "총괄한", "담당한", "전담한"}


def _ja_names(sentence: str) -> list[Name]:
    return [Name(m.group(1), m.start(1), m.end(1), "ja") for m in _JA_NAME.finditer(sentence)]


def _ko_names(sentence: str) -> list[Name]:
    out = []
    for m in _KO_WORD.finditer(sentence):
        word = m.group(1)
        if word[0] not in _KO_SURNAMES or word in _KO_NOT:
            continue
        rest = sentence[m.end() :]
        before = sentence[max(0, m.start(1) - 12) : m.start(1)]
        if m.end() > m.end(1) or _KO_TITLE.match(rest) or re.search(r"(?:장|수석|대표|원)\s*$", before):
            out.append(Name(word, m.start(1), m.end(1), "ko"))
    return out


# ── Latin script ─────────────────────────────────────────────────────────────

# Only the tokens a name can be made of: capitalised words, initials, particles, "(Tony)".
# One character class first, then what may follow it: ``re`` then skips every other character
# by a set test, where a leading alternation would be tried at each position of the sentence.
_LATIN_TOKEN = re.compile(
    r"[(A-Z\u00c0-\u00de\u0100-\u017fdvlbat]"
    r"(?:(?<=\()([A-Z][a-z]+)\)"
    r"|(?<![\w'].)(?:(?<=[A-Z\u00c0-\u00de\u0100-\u017f])[\w'\-.]*\w|(?<=[A-Z])\."
    r"|(?:(?<=d)(?:er|en|el|os|e|a|i|u)|(?<=v)(?:an|on)|(?<=l)[ea]|(?<=b)in|(?<=a)l|(?<=t)er)(?!\w)))"
)
_PARTICLES = {"de", "van", "von", "der", "den", "da", "di", "du", "le", "la", "bin", "al", "del", "dos", "ter"}


# Capitalised words that end an organisation's name: the words before them are no person.
_ORG_HEADS = frozenset({"Team", "Lab", "Labs", "Group", "Inc", "Inc.", "Institute", "University", "Academy",
                        "Holdings", "Platforms", "Ventures", "Capital", "Partners", "Foundation", "Technologies",
                        "Systems", "Robotics", "Corp", "Corp.", "Ltd", "Ltd.", "LLC", "GmbH", "AG", "SA", "SAS"})


# German writes titles as one capitalised word before a name: "Forschungschef", "KI-Leiterin".
_DE_TITLES = ("chef", "chefin", "leiter", "leiterin", "forscher", "forscherin", "gründer", "gründerin",
              "direktor", "direktorin", "managerin", "vorständin", "expertin", "professorin")


def _is_cap(word: str) -> bool:
    return (word[:1].isupper() and not word.isupper()) or (len(word) == 2 and word[1] == "." and word[0].isupper())


def _latin_names(sentence: str, taken: list[tuple[int, int]], not_name: frozenset[str],
                 lang: str = "") -> list[Name]:
    out: list[Name] = []
    run: list[tuple[int, int, str]] = []
    nick: str | None = None

    def flush() -> None:
        nonlocal run, nick
        while run and run[-1][2].casefold() in _PARTICLES:
            run.pop()
        words = [w for _, _, w in run]
        core = sum(1 for w in words if w.casefold() not in _PARTICLES)  # "Álvaro Jiménez de la Fuente": three
        if 2 <= core <= 4 and len(words) <= 6 and not all(len(w) <= 2 for w in words):
            start, end = run[0][0], run[-1][1]
            out.append(Name(" ".join(words), start, end, "latin", nick))
        run, nick = [], None

    last_end = -1
    for m in _LATIN_TOKEN.finditer(sentence):
        if m.group(1):  # "(Tony)" after a first name
            if run:
                nick = m.group(1)
                last_end = m.end()
            continue
        word = m.group()
        if not run and word[0].islower():
            continue  # a particle with no name before it: nothing to join
        start, end = m.start(), m.end()
        if word.endswith(("'s", "'")):
            word, end = word.rsplit("'", 1)[0], start + len(word.rsplit("'", 1)[0])
            possessive = True
        else:
            possessive = False
        inside_org = False
        for s, e in taken:
            if s < end and start < e:
                inside_org = True
                break
        ok = (
            not inside_org
            and not word.endswith("-based")
            and word not in not_name
            and ("-" not in word or word.rsplit("-", 1)[1] not in not_name)  # "Computer-Vision-Forscherin"
            and not (lang == "de" and word.casefold().endswith(_DE_TITLES))  # "Forschungschef Jonas Kettler"
            and word.rstrip(".") not in not_name
            and (_is_cap(word) or (run and word.casefold() in _PARTICLES))
        )
        if word in _ORG_HEADS:
            ok = False
            if run and not sentence[last_end:start].strip():
                run, nick = [], None  # "its Frontier Red Team", "Halyard Ventures": an organisation's name
        if run and (not ok or sentence[last_end:start].strip() not in ("", "-")):
            if len(run) > 1:
                flush()
            else:  # one word is no name: most capitalised words stand alone
                run, nick = [], None
        if ok:
            run.append((start, end, word))
            last_end = end
            if possessive:
                flush()
        else:
            last_end = end
    if run:
        flush()
    return out


def find_names(sentence: str, script_langs: str, taken: list[tuple[int, int]],
               not_name: frozenset[str] = frozenset()) -> list[Name]:
    """Names in a sentence; ``taken`` are spans already known to be organisations."""
    # A Latin name takes two capitalised words: none after the first letter, no name.
    names = [] if sentence[1:].islower() else _latin_names(sentence, taken, not_name, script_langs)
    if script_langs in ("zh", "ja", "ko") or _ANY_HAN.search(sentence):
        names_taken = taken + [(n.start, n.end) for n in names]
        if script_langs == "ja":
            names += _ja_names(sentence)
        elif script_langs == "ko":
            names += _ko_names(sentence)
        else:
            names += _han_names(sentence, names_taken)
    if script_langs == "ko" and not any(n.script == "ko" for n in names):
        names += _ko_names(sentence)
    return sorted(names, key=lambda n: n.start)


# ── aliases ──────────────────────────────────────────────────────────────────

_PINYIN_SYLLABLE = (
    r"(?:[bpmfdtnlgkhjqxrzcsyw]|zh|ch|sh)?(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|ai|ei|ao|ou"
    r"|an|en|in|un|ia|ie|iu|ua|uo|ue|ui|er|a|o|e|i|u|v)(?![aeiouv])"
)
_PINYIN_WORD = re.compile(rf"(?:{_PINYIN_SYLLABLE}){{1,3}}")


def is_pinyin(word: str) -> bool:
    w = word.casefold().replace("-", "")
    return bool(w) and _PINYIN_WORD.fullmatch(w) is not None


@lru_cache(maxsize=8192)
def aliases(name: str, script: str, nickname: str | None = None) -> tuple[str, ...]:
    """Other spellings of a name: pinyin forms for Chinese characters, the swapped order for pinyin."""
    out: list[str] = []
    if script == "han":
        sur, given = (part.capitalize() for part in romanise(name))  # surnames read as surnames: 曾 Zeng
        if sur and given:
            out += [f"{sur} {given}", f"{given} {sur}"]
    elif script == "latin":
        words = name.split()
        if len(words) == 2 and all(is_pinyin(w) for w in words):
            out.append(f"{words[1]} {words[0]}")
        if nickname and len(words) >= 2:
            out += [f"{nickname} {words[-1]}", " ".join(words)]
    return tuple(a for a in dict.fromkeys(out) if a != name)
