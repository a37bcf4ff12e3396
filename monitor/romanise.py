"""Chinese names in pinyin: the surname read as a surname, the given name character by character.

Why not pypinyin's defaults: its phrase dictionary costs about 45 MB in
every process that loads it (the daemon and each parser process), and for
a name of two to four characters it mostly reads the wrong thing anyway,
because the reading that matters is the surname's, which is often not the
character's common one (曾 is Zeng, not ceng; 单 Shan, 解 Xie, 区 Ou).
So the phrase dictionary is never loaded, pypinyin reads each character on
its own, and a small table gives the surnames their surname readings.

The result is a pure function of the name, whatever else in the process
imported pypinyin first: characters are always read one at a time.
"""

from __future__ import annotations

import os

# Set before pypinyin is first imported: it reads them once, at import.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")  # the 45 MB phrase dictionary, never used here
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")  # no private copy of the character table

import re
from functools import lru_cache

from pypinyin import lazy_pinyin

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Two-character surnames, with their readings (several differ from the characters' usual ones).
COMPOUND_SURNAMES: dict[str, str] = {
    "欧阳": "ouyang", "歐陽": "ouyang", "司马": "sima", "司馬": "sima", "上官": "shangguan", "诸葛": "zhuge",
    "諸葛": "zhuge", "东方": "dongfang", "東方": "dongfang", "皇甫": "huangfu", "尉迟": "yuchi", "尉遲": "yuchi",
    "公孙": "gongsun", "公孫": "gongsun", "慕容": "murong", "令狐": "linghu", "长孙": "zhangsun",
    "長孫": "zhangsun", "宇文": "yuwen", "司徒": "situ", "夏侯": "xiahou", "端木": "duanmu", "独孤": "dugu",
    "獨孤": "dugu", "南宫": "nangong", "南宮": "nangong", "西门": "ximen", "西門": "ximen", "澹台": "tantai",
    "澹臺": "tantai", "拓跋": "tuoba", "万俟": "moqi", "萬俟": "moqi", "单于": "chanyu", "單于": "chanyu",
    "呼延": "huyan", "赫连": "helian", "赫連": "helian", "钟离": "zhongli", "鍾離": "zhongli", "淳于": "chunyu",
    "闻人": "wenren", "聞人": "wenren", "申屠": "shentu", "轩辕": "xuanyuan", "軒轅": "xuanyuan",
    "濮阳": "puyang", "濮陽": "puyang", "司空": "sikong", "太史": "taishi", "公冶": "gongye", "宗政": "zongzheng",
    "乐正": "yuezheng", "樂正": "yuezheng", "亓官": "qiguan", "百里": "baili", "东郭": "dongguo",
    "東郭": "dongguo", "第五": "diwu",
}

# One-character surnames whose surname reading is not the character's first reading in pypinyin.
SURNAME_READINGS: dict[str, str] = {
    "曾": "zeng", "单": "shan", "單": "shan", "解": "xie", "区": "ou", "區": "ou", "朴": "piao", "仇": "qiu",
    "查": "zha", "乐": "yue", "樂": "yue", "盖": "ge", "蓋": "ge", "缪": "miao", "繆": "miao", "覃": "qin",
    "尉": "wei", "翟": "zhai", "重": "chong", "种": "chong", "種": "chong", "召": "shao", "繁": "po", "隗": "wei",
    "员": "yun", "員": "yun", "秘": "bi", "折": "she", "句": "gou", "阚": "kan", "闞": "kan", "宿": "su",
    "冼": "xian", "卜": "bu", "薄": "bo", "柏": "bai", "任": "ren", "晁": "chao", "藏": "zang", "车": "che",
    "車": "che", "石": "shi", "都": "du", "贾": "jia", "賈": "jia", "强": "qiang", "強": "qiang", "那": "na",
    "佴": "nai", "褚": "chu", "殷": "yin", "祭": "zhai", "便": "pian", "陆": "lu", "陸": "lu", "六": "lu",
    "于": "yu", "俞": "yu", "朝": "chao", "夏": "xia", "沈": "shen", "莘": "shen", "长": "chang",
    "長": "chang", "参": "can", "葉": "ye", "叶": "ye", "过": "guo", "過": "guo", "谌": "chen", "諶": "chen",
    "燕": "yan", "曲": "qu", "黑": "hei", "舍": "she", "降": "jiang", "率": "shuai", "俟": "qi",
}


def syllables(text: str) -> list[str]:
    """Pinyin of each Chinese character, without tones; a run of other characters stays one item."""
    out: list[str] = []
    run = ""
    for char in text:
        if HAN.match(char):
            out += [run, lazy_pinyin(char)[0]]  # one character at a time: never a phrase reading
            run = ""
        else:
            run += char
    out.append(run)
    return [s.strip() for s in out if s.strip()]


def split_surname(name: str) -> tuple[str, str]:
    """The surname and the given name of a name in Chinese characters (a known compound surname, else one)."""
    name = "".join(name.split())
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


@lru_cache(maxsize=8192)
def romanise(name: str) -> tuple[str, str]:
    """``(surname, given)`` in lower-case pinyin: 曾志杰 → ("zeng", "zhijie"), 欧阳娜娜 → ("ouyang", "nana").

    The given name is written as one word, as Chinese names are in the Latin
    press; either part is empty when the name has none.
    """
    surname, given = split_surname(name)
    reading = COMPOUND_SURNAMES.get(surname) or SURNAME_READINGS.get(surname) or "".join(syllables(surname))
    return reading, "".join(syllables(given))
