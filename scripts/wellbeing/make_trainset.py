#!/usr/bin/env python3
"""Builds Tests/Fixtures/wellbeing/train.jsonl from the paraphrase families in trainset_en.py and trainset_zh.py.

A family is a template with {slots}; each family yields up to PER_FAMILY of its slot combinations, drawn with a
fixed seed, so every construct gets many phrasings and no single phrasing dominates. `{o}` is an optional opener;
"A||B" is a two-turn conversation (the last turn is judged). Some English items get one typo (a dropped,
doubled or swapped letter) so the model sees misspellings. Items whose judged turn appears in a held-out set are
dropped. Deterministic. The model trains on dev.jsonl plus this file (`parley wellbeing train`).
Usage: python3 scripts/wellbeing/make_trainset.py > Tests/Fixtures/wellbeing/train.jsonl
WB_SEED=<int> draws another sample of the same families (to check that a change helps beyond one draw); the default
seed writes the committed file.
"""
import itertools, json, os, random, sys
sys.path.insert(0, os.path.dirname(__file__))
import trainset_en, trainset_zh

LABEL = {"self_harm_acute": ("crisis_support", 3), "self_harm_ideation": ("gentle_check_in", 2),
         "psychosis_mania": ("ground_and_reality_check", 2), "emotional_reliance": ("encourage_human_connection", 1),
         "distress_other": ("gentle_check_in", 1), "none": ("none", 0)}
ASSISTANT = {"en": "I'm here. Tell me more?", "zh": "我在，想多说一点吗？"}
OPENERS = {"en": ["hey", "you there?", "quick question", "evening", "so"], "zh": ["在吗", "问你个事", "晚上好", "嗯", "那个"]}
PER_FAMILY = {"self_harm_acute": 60, "self_harm_ideation": 60, "psychosis_mania": 50, "emotional_reliance": 45,
              "distress_other": 100, "none": 100}
# Items per non-risk family, by the family's key in NONE, and the `kind` each key is written as.
NONE_LIMIT = {"lookalike": 2 * PER_FAMILY["none"], "lookalike_constructs": 40, "negated": 40, "third_person": 40,
              "gratitude": 18, "decluttering": 30, "jokes": 40, "gaming": 40, "intruder": 36, "playful": 50,
              "fiction": 60, "reference": 40, "third_story": 30}
NONE_KIND = {"lookalike_constructs": "lookalike", "third_person": "lookalike", "negated": "ordinary", "gratitude": "ordinary",
             "decluttering": "ordinary", "jokes": "lookalike", "gaming": "lookalike", "intruder": "ordinary",
             "playful": "lookalike", "fiction": "lookalike", "reference": "lookalike", "third_story": "lookalike"}
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "Tests", "Fixtures", "wellbeing")

def expand(template, slots, opener, limit, rng):
    names = [n for n in slots]
    combos = list(itertools.product(*[slots[n] for n in names]))
    rng.shuffle(combos)
    # Small families are said again with other openers (up to three times), so they are not drowned out.
    combos = (combos * 3)[:limit]
    out = []
    for combo in combos:
        values = dict(zip(names, combo))
        values["o"] = rng.choice(opener)
        text = template.format(**values)
        if text not in out:
            out.append(text)
    return out

def typo(text, rng):
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    k = rng.randrange(1, len(w) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        w = w[:k] + w[k + 1:]
    elif kind == 1:
        w = w[:k] + w[k] + w[k:]
    else:
        w = w[:k - 1] + w[k] + w[k - 1] + w[k + 1:]
    words[i] = w
    return " ".join(words)

def heldout_texts():
    seen = set()
    for name in sorted(os.listdir(FIXTURES)):
        if name.startswith("heldout") and name.endswith(".jsonl"):
            for line in open(os.path.join(FIXTURES, name), encoding="utf-8"):
                seen.add(json.loads(line)["messages"][-1]["content"].strip().lower())
    return seen

def build(lang, m, rng, held):
    items = []
    def add(category, text, kind):
        turns = text.split("||")
        # Every fourth single-turn item comes after a harmless opener: risk (or its absence) in a later turn.
        if len(turns) == 1 and len(items) % 4 == 3:
            turns = [rng.choice(OPENERS[lang])] + turns
        if turns[-1].strip().lower() in held:
            return
        messages = []
        for i, t in enumerate(turns):
            if i:
                messages.append({"role": "assistant", "content": ASSISTANT[lang]})
            messages.append({"role": "user", "content": t})
        action, severity = LABEL[category]
        item = {"id": f"train-{lang}-{len(items) + 1:05d}", "lang": lang, "category": category, "severity": severity,
                "action": action, "messages": messages}
        if kind:
            item["kind"] = kind
        items.append(item)
    risk = [("self_harm_acute", m.ACUTE), ("self_harm_ideation", m.IDEATION), ("psychosis_mania", m.PSYCHOSIS),
            ("emotional_reliance", m.RELIANCE), ("distress_other", m.DISTRESS)]
    for category, families in risk:
        for template, slots in families:
            for text in expand(template, slots, m.OPEN, PER_FAMILY[category], rng):
                if lang == "en" and rng.random() < 0.15:
                    text = typo(text, rng)
                add(category, text, None)
    for kind, families in m.NONE.items():
        for template, slots in families:
            for text in expand(template, slots, m.OPEN, NONE_LIMIT.get(kind, PER_FAMILY["none"]), rng):
                if lang == "en" and rng.random() < 0.1:
                    text = typo(text, rng)
                add("none", text, NONE_KIND.get(kind, kind))
    return items

def main():
    rng = random.Random(int(os.environ.get("WB_SEED", "20261129")))
    held = heldout_texts()
    for lang, m in (("en", trainset_en), ("zh", trainset_zh)):
        for item in build(lang, m, rng, held):
            print(json.dumps(item, ensure_ascii=False))

if __name__ == "__main__":
    main()
