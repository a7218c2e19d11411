#!/usr/bin/env python3
"""Makes the test PDFs in this folder from the seed reports (run once; the PDFs are committed).

Each seed becomes a Flat ODT document (title, `Date:`/`Source:` lines, roman-numbered headings in
bold 14 pt, photo captions in italic 9 pt, body paragraphs in 11 pt, a running header with the
source and a footer with the page number) and LibreOffice exports it to PDF twice: one column,
left-aligned (`*-1col.pdf`), and two justified, hyphenated columns (`*-2col.pdf`). It also
makes `encrypted.pdf`, a short text protected by a password (`secret`).

    apt-get install -y libreoffice-writer-nogui hyphen-en-us
    python3 tests/data/pdf/make.py            # from the repository root
"""
import html
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
<office:meta><dc:title>{title}</dc:title><meta:creation-date>{date}T09:00:00</meta:creation-date></office:meta>
<office:styles>
 <style:default-style style:family="paragraph">
  <style:paragraph-properties fo:hyphenation-ladder-count="no-limit"/>
  <style:text-properties style:font-name="Liberation Serif" fo:font-family="'Liberation Serif'" fo:font-size="11pt" fo:language="en" fo:country="US" fo:hyphenate="{hyphenate}" fo:hyphenation-remain-char-count="3" fo:hyphenation-push-char-count="3"/>
 </style:default-style>
 <style:style style:name="Body" style:family="paragraph">
  <style:paragraph-properties fo:margin-bottom="0.25cm" fo:text-align="{align}"/>
 </style:style>
 <style:style style:name="Title" style:family="paragraph">
  <style:paragraph-properties fo:margin-bottom="0.4cm" fo:text-align="start"/>
  <style:text-properties fo:font-size="20pt" fo:font-weight="bold" fo:hyphenate="false"/>
 </style:style>
 <style:style style:name="Meta" style:family="paragraph">
  <style:text-properties fo:font-size="10pt" fo:hyphenate="false"/>
 </style:style>
 <style:style style:name="Heading" style:family="paragraph" style:default-outline-level="1">
  <style:paragraph-properties fo:margin-top="0.4cm" fo:margin-bottom="0.2cm" fo:keep-with-next="always" fo:text-align="start"/>
  <style:text-properties fo:font-size="14pt" fo:font-weight="bold" fo:hyphenate="false"/>
 </style:style>
 <style:style style:name="Caption" style:family="paragraph">
  <style:paragraph-properties fo:margin-bottom="0.25cm" fo:text-align="center"/>
  <style:text-properties fo:font-size="9pt" fo:font-style="italic" fo:hyphenate="false"/>
 </style:style>
 <style:style style:name="Marginal" style:family="paragraph">
  <style:paragraph-properties fo:text-align="center"/>
  <style:text-properties fo:font-size="9pt"/>
 </style:style>
</office:styles>
<office:automatic-styles>
 <style:page-layout style:name="pm1">
  <style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm" fo:margin-top="1.5cm" fo:margin-bottom="1.5cm" fo:margin-left="2cm" fo:margin-right="2cm">
   <style:columns fo:column-count="{columns}" fo:column-gap="0.8cm"/>
  </style:page-layout-properties>
  <style:header-style><style:header-footer-properties fo:margin-bottom="0.4cm"/></style:header-style>
  <style:footer-style><style:header-footer-properties fo:margin-top="0.4cm"/></style:footer-style>
 </style:page-layout>
</office:automatic-styles>
<office:master-styles>
 <style:master-page style:name="Standard" style:page-layout-name="pm1">
  <style:header><text:p text:style-name="Marginal">{source} · People-to-People Diplomacy</text:p></style:header>
  <style:footer><text:p text:style-name="Marginal">Page <text:page-number text:select-page="current">1</text:page-number></text:p></style:footer>
 </style:master-page>
</office:master-styles>
<office:body><office:text>
"""
TAIL = "</office:text></office:body></office:document>\n"


def parse_seed(seed_text):
    """A seed report's title, its `Date:`/`Source:` fields and its body lines (the web page's
    `fontSize:` line and blank lines left out). make_html.py uses it too."""
    lines = seed_text.splitlines()
    title = lines[0].strip()
    meta = {}
    body = []
    for line in lines[1:]:
        m = re.match(r"^(Date|Source):\s*(.*)$", line)
        if m and not body:
            meta[m.group(1)] = m.group(2).strip()
            continue
        if line.startswith("fontSize:") or not line.strip():
            continue
        body.append(line.strip())
    return title, meta, body


def fodt(seed_text, columns):
    title, meta, body = parse_seed(seed_text)
    e = html.escape
    two = columns == 2
    out = [
        HEAD.format(
            title=e(title),
            date=meta.get("Date", "2023-01-01"),
            source=e(meta.get("Source", "")),
            columns=columns,
            align="justify" if two else "start",
            hyphenate="true" if two else "false",
        )
    ]
    out.append(f'<text:p text:style-name="Title">{e(title)}</text:p>\n')
    for key in ("Date", "Source"):
        if key in meta:
            out.append(f'<text:p text:style-name="Meta">{key}: {e(meta[key])}</text:p>\n')
    for line in body:
        if re.match(r"^[IVX]+\. ", line):
            out.append(f'<text:h text:style-name="Heading" text:outline-level="1">{e(line)}</text:h>\n')
        elif len(line) < 200 and not line.endswith((".", "!", "?", '"')):
            out.append(f'<text:p text:style-name="Caption">{e(line)}</text:p>\n')
        else:
            out.append(f'<text:p text:style-name="Body">{e(line)}</text:p>\n')
    out.append(TAIL)
    return "".join(out)


def main():
    seeds = os.path.join(ROOT, "seeds")
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(os.listdir(seeds)):
            if not name.endswith(".txt"):
                continue
            text = open(os.path.join(seeds, name), encoding="utf-8").read()
            for columns in (1, 2):
                stem = f"{name[:-4]}-{columns}col"
                src = os.path.join(tmp, stem + ".fodt")
                with open(src, "w", encoding="utf-8") as f:
                    f.write(fodt(text, columns))
                subprocess.run(
                    ["soffice", "--headless", "--convert-to", "pdf", "--outdir", HERE, src],
                    check=True,
                    stdout=sys.stderr,
                )
        secret = os.path.join(tmp, "encrypted.txt")
        with open(secret, "w", encoding="utf-8") as f:
            f.write("Secret report.\n\nThis text is locked away.\n")
        options = (
            '{"EncryptFile":{"type":"boolean","value":"true"},'
            '"DocumentOpenPassword":{"type":"string","value":"secret"}}'
        )
        subprocess.run(
            ["soffice", "--headless", "--convert-to", "pdf:writer_pdf_Export:" + options,
             "--outdir", HERE, secret],
            check=True,
            stdout=sys.stderr,
        )


if __name__ == "__main__":
    main()
