"""Generated people for the demo: deterministic (seeded), never real persons.

Names combine common surnames and given-name characters, plus the font-testing names of demo/names.txt
(rare characters, Traditional, Extension A/B, middle dot). Units come from demo/units.txt (public
organization names of the kind that take part in association events).
"""
from __future__ import annotations

import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国文辉鑫宇浩然子轩梓涵欣怡思远嘉怡俊杰雨桐志强晓燕丹丹海峰凯乐佳琪诗雨博文天宇晨曦一鸣"


def _lines(name: str) -> list[str]:
    return [line.strip() for line in (HERE / name).read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def units() -> list[str]:
    return _lines("units.txt")


def font_test_names() -> list[str]:
    return _lines("names.txt")


def people(count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` distinct (name, mainland mobile) pairs; the font-testing names come first."""
    rng = random.Random(seed)
    names = list(font_test_names())
    seen = set(names)
    while len(names) < count:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        if name not in seen:
            seen.add(name)
            names.append(name)
    phones = rng.sample(range(10_000_000, 99_999_999), count)
    prefixes = ("138", "139", "135", "137", "150", "151", "186", "188", "159", "177")
    return [(names[i], f"{prefixes[i % len(prefixes)]}{phones[i]:08d}") for i in range(count)]
