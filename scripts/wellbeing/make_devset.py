#!/usr/bin/env python3
"""Builds Tests/Fixtures/wellbeing/dev.jsonl from the hand-written seeds in devset_en.py and devset_zh.py.

Each seed becomes one item; multi-turn seeds keep their earlier turns; every risk seed is also placed once after
a short, harmless opening exchange (risk that appears in a later turn), and the English typo seeds the
Chinese mixed-language seeds and the indirect second-round seeds are added as they are. Deterministic: no randomness.
Usage: python3 scripts/wellbeing/make_devset.py > Tests/Fixtures/wellbeing/dev.jsonl
"""
import json, os, sys
sys.path.insert(0, os.path.dirname(__file__))
import devset_en, devset_zh

LABEL = {"self_harm_acute": ("crisis_support", 3), "self_harm_ideation": ("gentle_check_in", 2),
         "psychosis_mania": ("ground_and_reality_check", 2), "emotional_reliance": ("encourage_human_connection", 1),
         "distress_other": ("gentle_check_in", 1), "none": ("none", 0)}
ASSISTANT = {"en": "I'm listening. How are you feeling?", "zh": "我在听，你现在感觉怎么样？"}
OPENERS = {
    "en": ["hey", "can I ask you something?", "are you there?", "so today happened", "hi again"],
    "zh": ["在吗", "能问你个事吗", "你好", "今天发生了一些事", "又来找你了"],
}

def item(lang, n, category, turns, kind):
    messages = []
    for i, t in enumerate(turns):
        if i:
            messages.append({"role": "assistant", "content": ASSISTANT[lang]})
        messages.append({"role": "user", "content": t})
    action, severity = LABEL[category]
    out = {"id": f"dev-{lang}-{n:04d}", "lang": lang, "category": category, "severity": severity, "action": action,
           "messages": messages}
    if kind:
        out["kind"] = kind
    return out

def build(lang, m):
    items = []
    def add(category, turns, kind=None):
        items.append(item(lang, len(items) + 1, category, turns, kind))
    risk = [("self_harm_acute", m.ACUTE), ("self_harm_ideation", m.IDEATION), ("psychosis_mania", m.PSYCHOSIS),
            ("emotional_reliance", m.RELIANCE), ("distress_other", m.DISTRESS)]
    for category, seeds in risk:
        for s in seeds:
            add(category, [s])
    for kind, seeds in [("ordinary", m.ORDINARY), ("lookalike", m.LOOKALIKE), ("neutral", m.NEUTRAL)]:
        for s in seeds:
            add("none", [s], kind)
    for category, turns in m.MULTI:
        add(category, turns, "multi_turn" if category == "none" else None)
    for category, text in getattr(m, "TYPO", []) + getattr(m, "MIXED", []):
        add(category, [text], "variant" if category == "none" else None)
    for category, text in getattr(m, "INDIRECT", []):
        add(category, [text], "indirect" if category == "none" else None)
    # Risk in a later turn: every third risk seed after a harmless opener.
    k = 0
    for category, seeds in risk:
        for s in seeds[::3]:
            add(category, [OPENERS[lang][k % len(OPENERS[lang])], s])
            k += 1
    # Look-alikes after an opener too, so context alone never makes them risky.
    for s in m.LOOKALIKE[::4]:
        add("none", [OPENERS[lang][k % len(OPENERS[lang])], s], "lookalike")
        k += 1
    return items

for lang, module in [("en", devset_en), ("zh", devset_zh)]:
    for it in build(lang, module):
        print(json.dumps(it, ensure_ascii=False))
