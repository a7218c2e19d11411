#!/usr/bin/env python3
"""Builds pos-en.txt: the part of speech a noun-phrase chunker needs for each word of
words-en.txt (SCOWL), from Princeton WordNet 3.0 (Debian's `wordnet-base`, /usr/share/wordnet).

Every word of the list is a noun unless listed. Listed words are
  A  an adjective ("colossal", "large"): it may qualify a noun, never head a phrase, and
  V  a verb or adverb form ("provides", "became", "quickly", "played"): it ends a phrase.
A word with several readings takes the most common one by WordNet's sense-tagged counts
(cntlist.rev), a noun unless another reading is four times as common; a regular participle
("-ed") that is no noun is a verb; an "-ing" form that can be a noun ("training") is one.
Forms are matched to WordNet's lemmas with WordNet's own rules ("morphy": its detachment
suffixes and the exception lists noun.exc, verb.exc, adj.exc).

Usage: python3 src/text/data/make_pos_en.py [/usr/share/wordnet] > src/text/data/pos-en.txt
(the output is sorted bytewise, as words-en.txt is: the loader binary-searches it)
"""
import os, sys

WN = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/wordnet"
HERE = os.path.dirname(os.path.abspath(__file__))

SUFFIXES = {
    "noun": [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
             ("men", "man"), ("ies", "y")],
    "verb": [("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""),
             ("ing", "e"), ("ing", "")],
    "adj": [("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
    "adv": [],
}


def lemmas(pos):
    """Single-word lemmas of a part of speech, each with how often its senses were tagged in
    WordNet's sense-tagged corpus (SemCor): a measure of how common that reading is."""
    out = {}
    with open(os.path.join(WN, f"index.{pos}"), encoding="latin-1") as f:
        for line in f:
            if line.startswith(" "):
                continue
            parts = line.split()
            if "_" in parts[0]:
                continue
            out[parts[0]] = 0
    with open(os.path.join(WN, "cntlist.rev"), encoding="latin-1") as f:
        for line in f:
            key, _, count = line.split()
            lemma, rest = key.split("%", 1)
            if lemma in out and SS_TYPES[rest[0]] == pos:
                out[lemma] += int(count)
    return out


SS_TYPES = {"1": "noun", "2": "verb", "3": "adj", "4": "adv", "5": "adj"}


def exceptions(pos):
    out = {}
    with open(os.path.join(WN, f"{pos}.exc"), encoding="latin-1") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                out.setdefault(parts[0], set()).update(parts[1:])
    return out


def reading(word, pos, lem, exc):
    """None when `word` cannot be read as `pos`, else the tagged count of its best lemma."""
    found = set()
    if word in lem[pos]:
        found.add(word)
    found |= exc[pos].get(word, set()) & lem[pos].keys()
    for suf, rep in SUFFIXES[pos]:
        if word.endswith(suf) and len(word) > len(suf) + 1 and word[: -len(suf)] + rep in lem[pos]:
            found.add(word[: -len(suf)] + rep)
    # Doubled consonant before -ed/-ing ("planned", "running").
    if pos == "verb":
        for suf in ("ed", "ing"):
            stem = word[: -len(suf)] if word.endswith(suf) else ""
            if len(stem) > 2 and stem[-1] == stem[-2] and stem[:-1] in lem["verb"]:
                found.add(stem[:-1])
    return max((lem[pos][x] for x in found), default=None)


def main():
    pos_names = ["noun", "verb", "adj", "adv"]
    lem = {p: lemmas(p) for p in pos_names}
    exc = {p: exceptions(p) if p != "adv" else exceptions("adv") for p in pos_names}
    with open(os.path.join(HERE, "words-en.txt"), encoding="utf-8") as f:
        words = [w.strip() for w in f if w.strip()]
    for w in words:
        if not w.isalpha():
            continue
        n, v, a, r = (reading(w, p, lem, exc) for p in pos_names)
        if n is None and v is None and a is None and r is None:
            continue
        n, v, a, r = ((-1 if x is None else x) for x in (n, v, a, r))
        # A regular participle ("played", "located") reads as a verb in running text even
        # where WordNet also lists it as an adjective; "-ed" nouns ("bed", "hundred") stay.
        if w.endswith("ed") and v >= 0 and n < 0:
            print(f"{w}\tV")
        elif w.endswith("ing") and n >= 0:
            continue
        elif n >= 0 and 4 * (n + 1) >= max(a, v, r):  # a noun unless another reading is 4x as common
            continue
        elif a >= max(v, r):
            print(f"{w}\tA")
        else:
            print(f"{w}\tV")


if __name__ == "__main__":
    main()
