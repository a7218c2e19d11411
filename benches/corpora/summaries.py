#!/usr/bin/env python3
"""Builds the two corpora of the 75-word summary benchmark (benches/quality/summaries75.py),
each with multi-sentence references written by the documents' own authors, and each split into
a tune half (where simsum's weights are fitted) and a test half (where they are reported).

encyclopaedia: the Good and Featured Wikipedia articles of WikiText-2 (Merity et al. 2016,
CC BY-SA), as the `word_language_model/data/wikitext-2/` folder of github.com/pytorch/examples
ships them (`valid.txt`: 60 articles, `test.txt`: 64; tokenised, rare words as `<unk>`). The
reference is an article's lead (the paragraphs before its first heading); the document is the
rest, its headings kept as numbered headings ("2.1 Music") so simsum sees the sections. Sections
that are lists of sources (References, See also, ...) are left out. The tokenisation is undone
(" @-@ " -> "-", " , " -> ", ", ...) and `<unk>` becomes "~", which neither ROUGE's tokenizer
nor sumy's counts as a word. Tune: valid.txt; test: test.txt (WikiText's own split).

proposals: Rust RFCs ("Summary") and PEPs ("Abstract"), read as benches/corpora/proposals.py
reads them, here with the section headings kept (numbered). Tune: proposals 0, 2, 4, ... in
proposals.py's order; test: 1, 3, 5, ...; `--every N` keeps every Nth proposal of each half
(the machine this ran on could not embed all of them twice in the session).

Usage: python3 benches/corpora/summaries.py --examples PYTORCH_EXAMPLES_CLONE \
           --rfcs RFCS_CLONE --peps PEPS_CLONE [--every 3]
Writes benches/data/encyclopaedia_summaries.jsonl and proposal_sections.jsonl:
{"id","title","reference","text","split"} lines.
"""
import argparse, glob, json, os, re, sys, unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proposals  # noqa: E402  (markdown_sections, rst_sections)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
SOURCE_SECTIONS = {"references", "see also", "external links", "notes", "further reading",
                   "bibliography", "footnotes", "sources", "citations", "notes and references"}


def detokenize(s):
    s = s.replace("<unk>", "~")
    s = re.sub(r" @(.)@ ", r"\1", s)
    s = re.sub(r" ([,.;:!?%)\]])", r"\1", s)
    s = re.sub(r"([(\[]) ", r"\1", s)
    s = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", s)
    s = re.sub(r"\" (.*?) \"", r'"\1"', s)
    return re.sub(r"\s+", " ", s).strip()


def wikitext_articles(path):
    """[(title, lead paragraphs, [(level, heading, [paragraph])])] of a WikiText file."""
    arts, cur = [], None
    for raw in open(path, encoding="utf-8"):
        line = raw.strip()
        if not line:
            continue
        m = re.fullmatch(r"(=(?: =)*) (.+?) (=(?: =)*)", line)
        if m:
            level = m.group(1).count("=")
            if level == 1:
                cur = (detokenize(m.group(2)), [], [])
                arts.append(cur)
            elif cur is not None:
                cur[2].append((level, detokenize(m.group(2)), []))
            continue
        if cur is None:
            continue
        (cur[2][-1][2] if cur[2] else cur[1]).append(detokenize(line))
    return arts


def numbered(sections):
    """Body text with numbered headings ("1. History", "1.1 Early years") and the paragraphs."""
    out, counters = [], []
    for level, head, paras in sections:
        depth = max(1, level - 1)
        counters = (counters + [0] * depth)[:depth]
        counters[-1] += 1
        num = ".".join(map(str, counters)) + ("." if depth == 1 else "")
        head = head[:1].upper() + head[1:]
        out.append(f"{num} {head.rstrip('.:;!?')}")
        out.extend(paras)
    return "\n\n".join(out)


def encyclopaedia(examples):
    rows = []
    for split, name in (("tune", "valid.txt"), ("test", "test.txt")):
        path = os.path.join(examples, "word_language_model", "data", "wikitext-2", name)
        for title, lead, sections in wikitext_articles(path):
            body, skip_level = [], None
            for level, head, paras in sections:
                if skip_level is not None and level > skip_level:
                    continue
                skip_level = None
                if head.lower() in SOURCE_SECTIONS:
                    skip_level = level
                    continue
                body.append((level, head, paras))
            ref = " ".join(lead)
            if len(ref.split()) < 40 or sum(len(p) for _, _, p in body) < 10:
                continue
            ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
            slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
            rows.append({"id": f"wiki-{split}-{len(rows)}-{slug}".strip("-"),
                         "title": title, "reference": ref, "text": numbered(body),
                         "split": split})
    return rows


def proposal_rows(rfcs, peps, every):
    drop = {"copyright", "references", "footnotes", "acknowledgements", "acknowledgments",
            "change history", "version history", "resolution", "table of contents", "contents"}
    found = []
    for path in sorted(glob.glob(os.path.join(rfcs, "text", "*.md"))):
        stem = os.path.splitext(os.path.basename(path))[0]
        secs = proposals.markdown_sections(open(path, encoding="utf-8").read())
        found.append(("rfc-" + stem, re.sub(r"^\d+-", "", stem).replace("-", " "), secs,
                      {"summary"}))
    peps_found = glob.glob(os.path.join(peps, "peps", "pep-*.rst")) or \
        glob.glob(os.path.join(peps, "pep-*.rst"))
    for path in sorted(peps_found):
        text = open(path, encoding="utf-8").read()
        title = re.search(r"^Title:\s*(.+)$", text, re.M)
        stem = os.path.splitext(os.path.basename(path))[0]
        found.append((stem, title.group(1).strip() if title else stem,
                      proposals.rst_sections(text), {"abstract"}))
    kept = []
    for pid, title, secs, names in found:
        ref, body = None, []
        for head, paras in secs:
            h = head.lower().strip(" :")
            if not h:
                continue
            if ref is None and h in names:
                ref = " ".join(paras)
            elif h not in drop and paras:
                body.append((2, head, paras))
        if not ref or len(ref.split()) < 8 or sum(len(p) for _, _, p in body) < 10:
            continue
        kept.append({"id": pid, "title": title, "reference": ref, "text": numbered(body)})
    rows = []
    for i, r in enumerate(kept):
        if (i // 2) % every == 0:
            r["split"] = "tune" if i % 2 == 0 else "test"
            rows.append(r)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", required=True)
    ap.add_argument("--rfcs", required=True)
    ap.add_argument("--peps", required=True)
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--out-dir", default=DATA)
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    for name, rows in (("encyclopaedia_summaries.jsonl", encyclopaedia(a.examples)),
                       ("proposal_sections.jsonl", proposal_rows(a.rfcs, a.peps, a.every))):
        with open(os.path.join(a.out_dir, name), "w") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        tune = sum(r["split"] == "tune" for r in rows)
        print(f"{name}: {tune} tune, {len(rows) - tune} test", file=sys.stderr)


if __name__ == "__main__":
    main()
