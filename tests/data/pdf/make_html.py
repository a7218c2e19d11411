#!/usr/bin/env python3
"""Makes the browser-made test PDFs in this folder from the seed reports (run once; the PDFs
are committed). `make.py` makes LibreOffice's; this script gives the same reports to two other
producers, so the PDF reader is tested on more than one typesetter's habits:

- Chromium's print to PDF (Skia/PDF): `PRODUCER = chromium`, printed the way a person prints a
  page, with the browser's own header (date, title) and footer (file URL, "1/3") on each page;
- WeasyPrint (its own layout engine over Pango, cairo-free PDF writer): `PRODUCER = weasyprint`,
  with a CSS running header (the source) and footer ("Page N").

Each seed becomes one HTML page: the title as `h1`, the `Date:`/`Source:` lines, roman-numbered
headings as `h2`, photo captions in small italics, body paragraphs. Two layouts per producer:
one left-aligned column (`*-PRODUCER-1col.pdf`) and two justified, hyphenated CSS columns
(`*-PRODUCER-2col.pdf`, `columns: 2; text-align: justify; hyphens: auto`), the layout whose
wrapped headings are stretched word by word and whose line ends split words.

It also prints the Chinese test report (`tests/data/zh/`) the same ways (`zh-PRODUCER-*.pdf`),
set in WenQuanYi Micro Hei: Chinese as real typesetters write it (Type0 fonts, Identity-H,
ToUnicode maps, lines broken between any two characters, full-width punctuation).

    apt-get install -y chromium fonts-liberation fonts-wqy-microhei
    python3 -m venv /tmp/wp && /tmp/wp/bin/pip install weasyprint==70.0
    WEASYPRINT=/tmp/wp/bin/weasyprint python3 tests/data/pdf/make_html.py   # from the repo root
"""
import html
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make import parse_seed  # noqa: E402  (the seed layout, read once for both scripts)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))

STYLE = """
@page {{ size: A4; margin: 1.6cm 2cm; {margin_boxes} }}
body {{ font-family: 'Liberation Serif', serif; font-size: 11pt; line-height: 1.35; }}
h1 {{ font-size: 20pt; margin: 0 0 0.4cm; }}
.meta {{ font-size: 10pt; margin: 0; }}
.flow {{ {columns} }}
h2 {{ font-size: 14pt; margin: 0.4cm 0 0.2cm; break-after: avoid; {heading_align} }}
p.body {{ margin: 0 0 0.25cm; {align} }}
p.caption {{ font-size: 9pt; font-style: italic; text-align: center; margin: 0 0 0.25cm; }}
"""
WEASY_BOXES = (
    "@top-center { content: '%s · People-to-People Diplomacy'; font-size: 9pt; }"
    " @bottom-center { content: 'Page ' counter(page); font-size: 9pt; }"
)


def page(seed_text, columns, producer):
    title, meta, body = parse_seed(seed_text)
    e = html.escape
    two = columns == 2
    style = STYLE.format(
        margin_boxes=WEASY_BOXES % e(meta.get("Source", "")) if producer == "weasyprint" else "",
        columns="columns: 2; column-gap: 0.8cm;" if two else "",
        # Justified like the body, so a heading that wraps is stretched word by word.
        heading_align="text-align: justify;" if two else "",
        align="text-align: justify; hyphens: auto;" if two else "",
    )
    out = [
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title><style>{style}</style></head><body>\n",
        f"<h1>{e(title)}</h1>\n",
    ]
    for key in ("Date", "Source"):
        if key in meta:
            out.append(f'<p class="meta">{key}: {e(meta[key])}</p>\n')
    out.append('<div class="flow">\n')
    for line in body:
        if re.match(r"^[IVX]+\. ", line):
            out.append(f"<h2>{e(line)}</h2>\n")
        elif len(line) < 200 and not line.endswith((".", "!", "?", '"')):
            out.append(f'<p class="caption">{e(line)}</p>\n')
        else:
            out.append(f'<p class="body">{e(line)}</p>\n')
    out.append("</div></body></html>\n")
    return "".join(out)


ZH_NUMBERED = re.compile(r"^([一二三四五六七八九十]+、|（[一二三四五六七八九十]+）)")


def page_zh(text, columns, producer):
    """The Chinese report as one HTML page: title, 日期/来源 lines, numbered headings (一、 as
    h2, （一） as h3), paragraphs; the 字号 line of the web page is left out."""
    # Paragraphs are separated by blank lines; a paragraph's own line breaks are no breaks.
    blocks = [b.strip() for b in text.split("\n\n") if b.strip()]
    head = blocks[0].splitlines()
    title = head[0].strip()
    rest = [l.strip() for l in head[1:]] + ["".join(l.strip() for l in b.splitlines()) for b in blocks[1:]]
    e = html.escape
    two = columns == 2
    style = STYLE.format(
        margin_boxes=WEASY_BOXES % "北京市人民政府外事办公室" if producer == "weasyprint" else "",
        columns="columns: 2; column-gap: 0.8cm;" if two else "",
        heading_align="text-align: justify;" if two else "",
        align="text-align: justify;" if two else "",
    ).replace("'Liberation Serif', serif", "'WenQuanYi Micro Hei', sans-serif")
    out = [f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{e(title)}'
           f"</title><style>{style} h3 {{ font-size: 12.5pt; }}</style></head><body>\n<h1>{e(title)}</h1>\n"]
    body = []
    for line in rest:
        if line.startswith(("日期：", "来源：")) and not body:
            out.append(f'<p class="meta">{e(line)}</p>\n')
        elif line.startswith("字号："):
            continue
        else:
            body.append(line)
    out.append('<div class="flow">\n')
    for line in body:
        m = ZH_NUMBERED.match(line)
        if m:
            tag = "h3" if line.startswith("（") else "h2"
            out.append(f"<{tag}>{e(line)}</{tag}>\n")
        else:
            out.append(f'<p class="body">{e(line)}</p>\n')
    out.append("</div></body></html>\n")
    return "".join(out)


def chromium(src, pdf):
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--print-to-pdf={pdf}", "file://" + src],
        check=True, stdout=sys.stderr, stderr=sys.stderr,
    )


def weasyprint(src, pdf):
    exe = os.environ.get("WEASYPRINT", "weasyprint")
    subprocess.run([exe, src, pdf], check=True, stdout=sys.stderr)


def main():
    seeds = os.path.join(ROOT, "seeds")
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(os.listdir(seeds)):
            if not name.endswith(".txt"):
                continue
            text = open(os.path.join(seeds, name), encoding="utf-8").read()
            for producer, make in (("chromium", chromium), ("weasyprint", weasyprint)):
                for columns in (1, 2):
                    stem = f"{name[:-4]}-{producer}-{columns}col"
                    src = os.path.join(tmp, stem + ".html")
                    with open(src, "w", encoding="utf-8") as f:
                        f.write(page(text, columns, producer))
                    make(src, os.path.join(HERE, stem + ".pdf"))
        zh = open(os.path.join(ROOT, "tests", "data", "zh", "000_zh_people_to_people_iii.txt"),
                  encoding="utf-8").read()
        for producer, make in (("chromium", chromium), ("weasyprint", weasyprint)):
            for columns in (1, 2):
                stem = f"zh-{producer}-{columns}col"
                src = os.path.join(tmp, stem + ".html")
                with open(src, "w", encoding="utf-8") as f:
                    f.write(page_zh(zh, columns, producer))
                make(src, os.path.join(HERE, stem + ".pdf"))


if __name__ == "__main__":
    main()
