#!/usr/bin/env python3
"""Builds benches/data/wikitext-articles.jsonl: encyclopaedia articles for the title benchmark.

Source: the test split of WikiText-2 (raw), Merity, Xiong, Bradbury and Socher, "Pointer
Sentinel Mixture Models" (2016): Wikipedia Good and Featured articles, licensed CC BY-SA 3.0
like Wikipedia itself. The split has 60 articles on distinct subjects (an actor, a Tang poet,
a battleship class, a hurricane, an amphibian order, a chemical class, ...). The file is the
one distributed as `wiki.test.raw` (1,307,975 bytes; here read from a copy in a public
repository, Deathnetworks/rotorquant `wikitext-test.txt`, blob b6bdd72).

Each output line is {"id", "title", "text", "half"}: the text is the article's first
MAX_PARAGRAPHS paragraphs of at least MIN_WORDS words (section headings left out), separated by
blank lines so that simsum indexes one item per paragraph; WikiText's tokenisation
(" @-@ ", " , ", "( x )") is undone. `half` alternates by article order: "tune" for even
positions, "test" for odd ones; the benchmark reports the test half.

Usage: python3 benches/corpora/wikitext_articles.py wiki.test.raw [benches/data/wikitext-articles.jsonl]
"""
import json, os, re, sys

MAX_PARAGRAPHS = 8
MIN_WORDS = 40
# Lines of the split that look like article titles but are headings or formulas inside an
# article (" = 1 henry and capacitance C = " in "Constant k filter"): their text stays with
# the article before them.
NOT_TITLES = {"1 rad / s and a nominal impedance k", "1 henry and capacitance C",
              "Qualified for the next round", "National record"}


def detok(s):
    s = s.strip()
    s = re.sub(r" @(.)@ ", r"\1", s)
    s = re.sub(r" ([,.;:!?%)\]'])", r"\1", s)
    s = s.replace(" n't", "n't").replace("' s ", "'s ")
    s = re.sub(r"([(\[$]) ", r"\1", s)
    s = re.sub(r'" (.*?) "', r'"\1"', s)
    return re.sub(r"\s+", " ", s)


def articles(lines):
    title, paras = None, []
    for raw in lines:
        line = raw.rstrip("\r\n")
        m = re.fullmatch(r" = ([^=].*?) = ?", line)
        if m and m.group(1).strip() not in NOT_TITLES:
            if title:
                yield title, paras
            title, paras = detok(m.group(1)), []
        elif line.startswith(" = ") or not line.strip():
            continue
        elif title:
            paras.append(detok(line))
    if title:
        yield title, paras


def main():
    src = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "data", "wikitext-articles.jsonl")
    with open(src, encoding="utf-8") as f:
        arts = list(articles(f))
    kept = 0
    with open(out, "w", encoding="utf-8") as f:
        for k, (title, paras) in enumerate(arts):
            paras = [p for p in paras if len(p.split()) >= MIN_WORDS][:MAX_PARAGRAPHS]
            if len(paras) < 3:
                continue
            doc = {"id": f"a{k:02d}", "title": title, "text": "\n\n".join(paras),
                   "half": "tune" if k % 2 == 0 else "test"}
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
            kept += 1
    print(f"{kept} of {len(arts)} articles -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
