"""simsum's opener rule (src/text/openers.rs, `leans_on_previous`) for the quality benchmarks.

The word lists are read from the Rust source at import time, so there is still one list in one
place; only the few lines of matching logic are repeated here, line for line. The summary
benchmark uses it to count *dangling* sentences: a summary sentence that leans on the sentence
before it while that sentence is not in the summary (or has none).
"""
import os, re

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "text",
                      "openers.rs")


def _list(src, name):
    m = re.search(r"const " + name + r": &\[&str\] = &\[(.*?)\];", src, re.S)
    if not m:
        raise SystemExit(f"{SOURCE}: no list {name}")
    return re.findall(r'"([^"]*)"', m.group(1))


_SRC = open(SOURCE).read()
CONNECTIVES = _list(_SRC, "CONNECTIVES")
ANAPHORA = set(_list(_SRC, "ANAPHORA"))
DEICTIC = _list(_SRC, "DEICTIC")
_SUBJECTS = {"they", "it", "he", "she", "this", "these", "those", "such"}


def leading_words(sentence, n):
    """[(lower-case word, comma follows)] of the start of `sentence` (leading_words in Rust)."""
    out, word = [], []
    for c in sentence:
        if c.isalnum() or c in "'\u2019":
            word.append(c.lower())
            continue
        if word:
            out.append(["".join(word), False])
            word = []
            if len(out) > n:
                break
        if c in ",;:\u2014" and out:
            out[-1][1] = True
    if word and len(out) <= n:
        out.append(["".join(word), False])
    return out


def _starts_with(words, phrase):
    parts = phrase.split(" ")
    return len(words) >= len(parts) and all(w[0] == p for w, p in zip(words, parts))


def _anaphoric(words):
    if not words or any(_starts_with(words, p) for p in DEICTIC):
        return False
    return words[0][0] in ANAPHORA


def leans_on_previous(sentence):
    words = leading_words(sentence, 12)
    if not words:
        return False
    if any(_starts_with(words, p) for p in CONNECTIVES) or _anaphoric(words):
        return True
    comma = next((i for i, w in enumerate(words[:10]) if w[1]), None)
    if comma is not None:
        rest = words[comma + 1:]
        if rest:
            return rest[0][0] in _SUBJECTS and _anaphoric(rest)
    return False


def dangling(picks):
    """How many of the picked sentence positions (in one document's sentence list) lean on a
    sentence that is not picked, given `picks` as [(position, text)]."""
    chosen = {p for p, _ in picks}
    return sum(1 for p, text in picks if leans_on_previous(text) and (p - 1) not in chosen)


if __name__ == "__main__":
    # The Rust unit tests' sentences (src/text/openers.rs), so the port is checked against them.
    yes = ["To this end, the China Association for NGO Cooperation (CANGO) launched a programme.",
           "For example, Beijing Construction Engineering Group built a school.",
           "In addition, the firm trained workers.", "However, results were mixed.",
           "They have played an important role.", "This helped local people.",
           "Such efforts continue.",
           "With rich resources and strong networks, they have played a key role.",
           "\u201cMoreover\u201d the team said."]
    no = ["The company trained local workers in construction skills.",
          "This year, the association held three forums.",
          "This report describes the initiatives of 2022.",
          "Thousands of workers were trained in Angola.",
          "Beijing, the capital, hosted the event.",
          "Soon after the forum, the chamber opened an office.", ""]
    bad = [s for s in yes if not leans_on_previous(s)] + [s for s in no if leans_on_previous(s)]
    if bad:
        raise SystemExit(f"port disagrees with the Rust tests on: {bad}")
    print(f"opener rule: {len(CONNECTIVES)} connectives, {len(ANAPHORA)} anaphora, "
          f"{len(DEICTIC)} deictic phrases; agrees with the Rust tests")
