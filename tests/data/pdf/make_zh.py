#!/usr/bin/env python3
"""Makes `zh-report.pdf`: the first part of the Chinese test report (tests/data/zh/) typeset
as a PDF the way Chinese PDFs carry text: one Type0 font with Identity-H encoding (two-byte
glyph ids) and a ToUnicode CMap mapping them back to characters, no embedded font program
(readers fall back to a system font; text extraction needs only the CMap and the widths).
The title is set in 18 pt, the header lines in 10 pt, headings in 14 pt, paragraphs in 11 pt,
wrapped at the right margin in the middle of words, as Chinese typesetting does, so a reader
must join the lines without spaces. Written by hand (no dependencies); run once, from the
repository root, and commit the PDF:

    python3 tests/data/pdf/make_zh.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SOURCE = os.path.join(ROOT, "tests", "data", "zh", "000_zh_people_to_people_iii.txt")
OUT = os.path.join(HERE, "zh-report.pdf")
PAGE_W, PAGE_H, MARGIN = 595, 842, 72


def blocks():
    """The report's blocks up to the first subsection's paragraph: (kind, text)."""
    text = open(SOURCE, encoding="utf-8").read()
    parts = [p.strip() for p in text.split("\n\n") if p.strip()]
    head = parts[0].split("\n")
    out = [("title", head[0])] + [("meta", line) for line in head[1:3]]
    for p in parts[1:]:
        line = p.replace("\n", "")
        kind = "heading" if line.startswith(("一、", "二、", "（一）")) else "body"
        out.append((kind, line))
        if line.startswith("鼓励企业"):
            break
    return out


def width(ch):
    return 500 if ord(ch) < 0x80 else 1000


def wrap(text, size):
    lines, cur, w = [], "", 0.0
    for ch in text:
        cw = width(ch) * size / 1000
        if cur and w + cw > PAGE_W - 2 * MARGIN:
            lines.append(cur)
            cur, w = "", 0.0
        cur += ch
        w += cw
    return lines + [cur] if cur else lines


def main():
    sizes = {"title": 18, "meta": 10, "heading": 14, "body": 11}
    chars = sorted({c for _, t in blocks() for c in t})
    cid = {c: i + 1 for i, c in enumerate(chars)}
    ops, y = [], PAGE_H - MARGIN
    for kind, text in blocks():
        size = sizes[kind]
        y -= size * 0.8 if kind in ("title", "heading") else 0
        for line in wrap(text, size):
            y -= size * 1.5
            glyphs = "".join(f"{cid[c]:04X}" for c in line)
            ops.append(f"BT /F1 {size} Tf {MARGIN} {y:.1f} Td <{glyphs}> Tj ET")
        y -= size * 0.8
    content = "\n".join(ops).encode("ascii")
    bfchar = []
    for start in range(0, len(chars), 100):
        chunk = chars[start:start + 100]
        bfchar.append(f"{len(chunk)} beginbfchar")
        bfchar += [f"<{cid[c]:04X}> <{ord(c):04X}>" for c in chunk]
        bfchar.append("endbfchar")
    cmap = "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
        "1 begincodespacerange", "<0000> <FFFF>", "endcodespacerange",
        *bfchar, "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end",
    ]).encode("ascii")
    widths = " ".join(f"{cid[c]} [{width(c)}]" for c in chars if width(c) != 1000)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
        f"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".encode(),
        stream(content),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H "
        b"/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun /CIDSystemInfo << /Registry "
        f"(Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 8 0 R /DW 1000 "
        f"/W [{widths}] >>".encode(),
        stream(cmap),
        b"<< /Type /FontDescriptor /FontName /SimSun /Flags 4 /FontBBox [0 -141 1000 859] "
        b"/ItalicAngle 0 /Ascent 859 /Descent -141 /CapHeight 700 /StemV 80 >>",
        b"<< /Title <FEFF" + "".join(f"{ord(c):04X}" for c in blocks()[0][1]).encode()
        + b"> /CreationDate (D:20230129090000) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    with open(OUT, "wb") as f:
        f.write(out)
    print(f"{OUT}: {len(out)} bytes, {len(chars)} distinct characters")


def stream(data):
    return f"<< /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


if __name__ == "__main__":
    main()
