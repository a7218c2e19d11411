#!/usr/bin/env python3
"""Builds a second summarization corpus: design proposals with an author-written summary.

Rust RFCs (github.com/rust-lang/rfcs, `text/*.md`) open with a "Summary" section and Python
Enhancement Proposals (github.com/python/peps, `peps/pep-*.rst`) with an "Abstract": one to a
few sentences in which the authors say what the proposal is. That section is the reference; the
rest of the proposal (motivation, design, alternatives...) is the document. Like the reports
simsum is built for, these documents describe initiatives, in sections and paragraphs.

Markup is reduced to plain paragraphs: code blocks, tables, directives and front matter are
dropped, links and inline code keep their text. A proposal is kept when its reference has at
least 8 words and its document at least 10 paragraphs.

Usage: python3 benches/corpora/proposals.py RFCS_CLONE PEPS_CLONE [--out FILE]
(`git clone https://github.com/rust-lang/rfcs` and `.../python/peps`; any recent commit.)
Writes {"id","title","reference","text"} lines to benches/data/proposal_summaries.jsonl.
"""
import argparse, glob, json, os, re, sys

OUT = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "..", "data",
                   "proposal_summaries.jsonl")


def inline_md(s):
    s = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", s)                 # images
    s = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", s)             # [text](url)
    s = re.sub(r"\[([^\]]+)\]\[[^\]]*\]", r"\1", s)            # [text][ref]
    s = re.sub(r"`([^`]*)`", r"\1", s)
    s = re.sub(r"(\*\*|__)(.+?)\1", r"\2", s)
    s = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)", r"\1", s)
    s = re.sub(r"<[^>]+>", "", s)
    return re.sub(r"\s+", " ", s).strip()


def end_paragraph(lines, paras, inline):
    """Appends the paragraph collected in `lines` (markup reduced by `inline`) to `paras` when it
    has a letter, and empties `lines`."""
    if lines:
        p = inline(" ".join(lines))
        if re.search(r"[A-Za-z]", p):
            paras.append(p)
        lines.clear()


def markdown_sections(text):
    """[(heading, [paragraph, ...])] of a Markdown file, code and tables left out."""
    sections, head, paras, cur, fence = [], "", [], [], False

    def flush():
        end_paragraph(cur, paras, inline_md)

    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            flush()
            fence = not fence
            continue
        if fence:
            continue
        m = re.match(r"^\s{0,3}(#{1,6})\s+(.*)$", line)
        if m:
            flush()
            sections.append((head, paras))
            head, paras = inline_md(m.group(2)).strip("# "), []
            continue
        if not line.strip() or line.startswith("    ") or line.lstrip().startswith("|"):
            flush()
            continue
        item = re.match(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$", line)
        if item:  # each list item is a paragraph of its own
            flush()
            line = item.group(1)
        if line.startswith(">"):
            line = line.lstrip("> ")
        cur.append(line.strip())
    flush()
    sections.append((head, paras))
    return sections


def inline_rst(s):
    s = re.sub(r":pep:`(?:[^`<]*<)?(\d+)>?`", r"PEP \1", s)
    s = re.sub(r":[a-z:]+:`([^`<]*?)\s*(?:<[^>]*>)?`", r"\1", s)   # :role:`text <target>`
    s = re.sub(r"`([^`<]*?)\s*<[^>]*>`_{1,2}", r"\1", s)           # `text <url>`_
    s = re.sub(r"``([^`]*)``", r"\1", s)
    s = re.sub(r"`([^`]*)`_{0,2}", r"\1", s)
    s = re.sub(r"\[#?[\w-]*\]_", "", s)                            # footnote refs
    s = re.sub(r"(\*\*|\*)(.+?)\1", r"\2", s)
    return re.sub(r"\s+", " ", s).strip()


def rst_sections(text):
    """[(heading, [paragraph, ...])] of a PEP's reStructuredText body, literal blocks and
    directives left out."""
    lines = text.splitlines()
    # The header block ("PEP: 8", "Title: ...") ends at the first blank line.
    start = next((i for i, l in enumerate(lines) if not l.strip()), len(lines))
    lines = lines[start:]
    sections, head, paras, cur = [], "", [], []
    skip_indent = None  # inside a literal block or directive: skip lines indented deeper

    def flush():
        end_paragraph(cur, paras, inline_rst)

    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if not line.strip() or indent > skip_indent:
                i += 1
                continue
            skip_indent = None
        if line.strip() and re.fullmatch(r"([=\-~^\"'`#*+])\1{2,}", nxt.strip()) \
                and len(nxt.strip()) >= len(line.strip()) - 2:
            flush()
            sections.append((head, paras))
            head, paras = inline_rst(line.strip()), []
            i += 2
            continue
        if re.fullmatch(r"([=\-~^\"'`#*+])\1{2,}", line.strip()):
            i += 1
            continue
        if line.lstrip().startswith(".."):  # directive, comment, footnote or link target
            flush()
            skip_indent = indent
            i += 1
            continue
        if not line.strip():
            flush()
            i += 1
            continue
        if line.lstrip().startswith(("+-", "|")):
            flush()
            i += 1
            continue
        item = re.match(r"^\s*(?:[-*+]|\d+[.)]|#\.)\s+(.*)$", line)
        if item:
            flush()
            line = item.group(1)
        text_line = line.strip()
        if text_line.endswith("::"):  # the paragraph introduces a literal block
            cur.append(text_line[:-1] if text_line != "::" else "")
            flush()
            skip_indent = indent
            i += 1
            continue
        cur.append(text_line)
        i += 1
    flush()
    sections.append((head, paras))
    return sections


def proposal(sections, summary_names, drop):
    ref, body = None, []
    for head, paras in sections:
        h = head.lower().strip(" :")
        if not h:  # front matter before the first heading (an RFC's start date, PR, issue)
            continue
        if ref is None and h in summary_names:
            ref = " ".join(paras)
        elif h in drop:
            continue
        else:
            body.extend(paras)
    return ref, body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rfcs")
    ap.add_argument("peps")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args()
    drop = {"copyright", "references", "footnotes", "acknowledgements", "acknowledgments",
            "change history", "version history", "resolution", "table of contents", "contents"}
    rows = []
    for path in sorted(glob.glob(os.path.join(a.rfcs, "text", "*.md"))):
        stem = os.path.splitext(os.path.basename(path))[0]
        ref, body = proposal(markdown_sections(open(path, encoding="utf-8").read()),
                             {"summary"}, drop)
        rows.append(("rfc-" + stem, re.sub(r"^\d+-", "", stem).replace("-", " "), ref, body))
    peps = glob.glob(os.path.join(a.peps, "peps", "pep-*.rst")) or \
        glob.glob(os.path.join(a.peps, "pep-*.rst"))
    for path in sorted(peps):
        text = open(path, encoding="utf-8").read()
        title = re.search(r"^Title:\s*(.+)$", text, re.M)
        ref, body = proposal(rst_sections(text), {"abstract"}, drop)
        stem = os.path.splitext(os.path.basename(path))[0]
        rows.append((stem, title.group(1).strip() if title else stem, ref, body))
    kept = 0
    with open(a.out, "w") as fh:
        for pid, title, ref, body in rows:
            if not ref or len(ref.split()) < 8 or len(body) < 10:
                continue
            fh.write(json.dumps({"id": pid, "title": title, "reference": ref,
                                 "text": "\n\n".join(body)}) + "\n")
            kept += 1
    print(f"{kept} of {len(rows)} proposals -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
