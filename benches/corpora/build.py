#!/usr/bin/env python3
"""Builds the benchmark corpora from real text available offline through Debian's package tools.

Outputs (under benches/data/, git-ignored):
  short.txt        Debian package short descriptions (one per line, deduplicated, shuffled with a
                   fixed seed): the "short texts" embedding corpus and the source of >= 100k index
                   vectors together with long.txt.
  long.txt         Chunks of 150-190 words (about 200-256 tokens) from the sections of the manual
                   pages in Debian's `manpages` and `manpages-dev` packages: the "long sections"
                   corpus.
  labelled.jsonl   {"id","title","text","label"} for packages of a dozen topical archive sections
                   (the clustering-quality corpus; label = Debian Section).
  manpage_summaries.jsonl  {"id","reference","text"}: each page's NAME one-liner (human-written
                   reference) and its DESCRIPTION section (the summarization corpus).
Needs: apt-cache with package lists (`apt-get update`), apt-get download, dpkg, groff.
"""
import json, os, random, re, subprocess, sys, tempfile, glob, gzip

OUT = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "..", "data")
SECTIONS = ["games", "science", "sound", "mail", "fonts", "math", "graphics", "video",
            "electronics", "hamradio", "database", "editors"]


def packages():
    text = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True, check=True).stdout
    for block in text.split("\n\n"):
        fields, key = {}, None
        for line in block.splitlines():
            if line.startswith(" ") and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, val = line.partition(":")
                fields[key] = val.strip()
        if "Package" in fields and "Description" in fields:
            yield fields


def long_description(desc):
    lines = desc.split("\n")[1:]
    out = []
    for l in lines:
        l = l.strip()
        out.append("" if l == "." else l)
    return re.sub(r"\s+", " ", " ".join(out)).strip()


def long_descriptions(names):
    """Long descriptions live in the translation index: `apt-cache show` prints them."""
    out = {}
    names = sorted(names)
    for i in range(0, len(names), 400):
        text = subprocess.run(["apt-cache", "show", "--no-all-versions"] + names[i:i + 400],
                              capture_output=True, text=True).stdout
        for block in text.split("\n\n"):
            m = re.search(r"^Package: (\S+)", block, re.M)
            d = re.search(r"^Description(?:-en)?: (.*(?:\n .*)*)", block, re.M)
            if m and d:
                out[m.group(1)] = d.group(1)
    return out


def build_packages():
    seen, short, wanted = set(), [], {}
    for f in packages():
        name = f["Package"]
        if name in seen:
            continue
        seen.add(name)
        s = f["Description"].split("\n")[0].strip()
        if s:
            short.append(s)
        section = f.get("Section", "").split("/")[-1]
        if section in SECTIONS:
            wanted[name] = (s, section)
    # Long descriptions are in the translation index, which this machine's apt does not fetch;
    # the clustering corpus uses the short descriptions (real, human-written, and harder).
    longs = long_descriptions(wanted)
    labelled = []
    for name, (s, section) in wanted.items():
        text = long_description(longs[name]) if name in longs else ""
        text = s + ". " + text if len(text.split()) >= 12 else s
        if len(s.split()) >= 3:
            labelled.append({"id": name, "title": s, "text": text, "label": section})
    labelled.sort(key=lambda r: r["id"])
    short = sorted(set(short))
    random.Random(42).shuffle(short)
    random.Random(42).shuffle(labelled)
    with open(os.path.join(OUT, "short.txt"), "w") as fh:
        fh.write("\n".join(short) + "\n")
    with open(os.path.join(OUT, "labelled.jsonl"), "w") as fh:
        for r in labelled:
            fh.write(json.dumps(r) + "\n")
    print(f"short.txt: {len(short)} texts; labelled.jsonl: {len(labelled)} packages")


def render(path):
    """Man page to plain text with groff (no hyphenation, no justification, wide lines)."""
    raw = gzip.open(path, "rb").read() if path.endswith(".gz") else open(path, "rb").read()
    if raw.startswith(b".so "):
        return None
    r = subprocess.run(["groff", "-man", "-Tutf8", "-P", "-cbou", "-rLL=500n", "-rHY=0", "-t"],
                       input=raw, capture_output=True)
    return r.stdout.decode("utf-8", "replace")


def sections_of(text):
    secs, name, buf = [], None, []
    for line in text.splitlines():
        if re.match(r"^[A-Z][A-Z /-]+$", line.strip()) and not line.startswith(" "):
            if name:
                secs.append((name, " ".join(buf)))
            name, buf = line.strip(), []
        elif name:
            buf.append(line.strip())
    if name:
        secs.append((name, " ".join(buf)))
    return [(n, re.sub(r"\s+", " ", t).strip()) for n, t in secs]


def build_manpages():
    work = tempfile.mkdtemp()
    subprocess.run(["apt-get", "download", "manpages", "manpages-dev"], cwd=work, check=True,
                   capture_output=True)
    for deb in glob.glob(os.path.join(work, "*.deb")):
        subprocess.run(["dpkg", "-x", deb, os.path.join(work, "x")], check=True)
    pages = sorted(glob.glob(os.path.join(work, "x/usr/share/man/man*/*")))
    chunks, summaries, seen = [], [], set()
    for p in pages:
        if os.path.islink(p):
            continue  # an alias of another page
        text = render(p)
        if not text:
            continue
        secs = sections_of(text)
        page = os.path.basename(p).split(".gz")[0]
        for name, body in secs:
            words = body.split()
            if name == "NAME" and " - " in body:
                ref = body.split(" - ", 1)[1].strip()
                desc = next((b for n, b in secs if n == "DESCRIPTION"), "")
                if ref and len(desc.split()) >= 40 and desc not in seen:
                    seen.add(desc)
                    summaries.append({"id": page, "reference": ref, "text": desc})
            for i in range(0, len(words), 170):
                piece = words[i:i + 170]
                if len(piece) >= 150:
                    chunks.append(" ".join(piece))
    random.Random(7).shuffle(chunks)
    with open(os.path.join(OUT, "long.txt"), "w") as fh:
        fh.write("\n".join(chunks) + "\n")
    with open(os.path.join(OUT, "manpage_summaries.jsonl"), "w") as fh:
        for r in summaries:
            fh.write(json.dumps(r) + "\n")
    print(f"long.txt: {len(chunks)} chunks from {len(pages)} pages; "
          f"manpage_summaries.jsonl: {len(summaries)} pages")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    build_packages()
    if "--packages-only" not in sys.argv:
        build_manpages()
