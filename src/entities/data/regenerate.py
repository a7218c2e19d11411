#!/usr/bin/env python3
"""Regenerates countries.tsv (and, with --zh, countries-zh.tsv) from the npm package
world-countries (mledoze/countries, ODbL).

    cd "$(mktemp -d)" && npm pack world-countries@5.1.0 && tar xzf world-countries-5.1.0.tgz
    python3 /path/to/src/entities/data/regenerate.py package/countries.json \
        > /path/to/src/entities/data/countries.tsv
    python3 /path/to/src/entities/data/regenerate.py --zh package/countries.json \
        > /path/to/src/entities/data/countries-zh.tsv

countries-zh.tsv: alpha-2, then the Chinese common and official names (`translations.zho`),
as upstream writes them (a few are in traditional characters; extra.tsv adds other forms).

One line per ISO 3166-1 entry (countries and territories), tab-separated:
alpha-2, alpha-3, common name, official name, other names, demonyms, capitals, independent.
List fields are joined with `|`. Only names in Latin script are kept (the gazetteer reads
English text); two- and three-letter spellings (codes) are dropped from the names, since codes
are matched as codes. Nothing else is changed: our own additions live in extra.tsv.
"""
import json
import sys
import unicodedata


def latin(s):
    for ch in s:
        if ch.isalpha() and "LATIN" not in unicodedata.name(ch, ""):
            return False
    return True


def clean(values, common, official):
    out = []
    for v in values:
        v = v.strip()
        if not v or not latin(v) or len(v) <= 3 or v in (common, official) or v in out:
            continue
        if "|" in v or "\t" in v:
            continue
        out.append(v)
    return out


def main(path):
    countries = json.load(open(path, encoding="utf-8"))
    rows = []
    for c in countries:
        common, official = c["name"]["common"], c["name"]["official"]
        names = clean(c.get("altSpellings", []), common, official)
        eng = c.get("demonyms", {}).get("eng", {})
        demonyms = []
        for d in (eng.get("m", ""), eng.get("f", "")):
            if d and d not in demonyms:
                demonyms.append(d)
        capitals = [x for x in c.get("capital", []) if latin(x)]
        rows.append([
            c["cca2"], c["cca3"], common, official, "|".join(names), "|".join(demonyms),
            "|".join(capitals), "1" if c.get("independent") else "0",
        ])
    rows.sort()
    print("# alpha2\talpha3\tcommon\tofficial\tnames\tdemonyms\tcapitals\tindependent")
    print("# from world-countries 5.1.0 (npm; github.com/mledoze/countries), ODbL 1.0: see LICENSE-world-countries.md")
    for r in rows:
        print("\t".join(r))


def main_zh(path):
    countries = json.load(open(path, encoding="utf-8"))
    rows = []
    for c in countries:
        zho = c.get("translations", {}).get("zho")
        if zho:
            rows.append([c["cca2"], zho["common"], zho["official"]])
    rows.sort()
    print("# alpha2\tcommon\tofficial (Chinese names: translations.zho)")
    print("# from world-countries 5.1.0 (npm; github.com/mledoze/countries), ODbL 1.0: see LICENSE-world-countries.md")
    for r in rows:
        print("\t".join(r))


if __name__ == "__main__":
    if sys.argv[1] == "--zh":
        main_zh(sys.argv[2])
    else:
        main(sys.argv[1])
