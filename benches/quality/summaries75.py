#!/usr/bin/env python3
"""75-word summaries against author-written multi-sentence references (issue 38, part 2):
simsum next to sumy's LexRank and TextRank and lead, in the same run, on the test half of each
corpus that benches/corpora/summaries.py builds (encyclopaedia: a Wikipedia article's lead is
the reference, the rest the document; proposals: an RFC's Summary or a PEP's Abstract).

Every system works on the same sentences (simsum's segmentation, read from
`simsum sections --json`) under the same budget: sentences are taken in the system's order of
preference (lead: document order; LexRank and TextRank: their ratings; simsum: its own choice,
`simsum summarize --each --json --words 75`), a sentence that would pass 75 words is skipped,
and the summary is read in document order. simsum runs twice: with its default (learned)
scorer and with `--scorer blend` (the hand-set blend that came before), in the same run.

ROUGE-1/2/L F1 from Google's `rouge-score` (Porter stemming), averaged over documents; for
each system, a 95% bootstrap interval of its mean ROUGE-2 (2,000 resamples of documents); for
simsum against each other system, the paired-bootstrap interval of the ROUGE-2 difference and
of the ratio of means. Dangling openers: summary sentences that lean on the sentence before
them (simsum's rule, benches/quality/openers.py) while the summary lacks it.

Usage: benches/.venv/bin/python benches/quality/summaries75.py --simsum target/debug/simsum \
           [--corpus encyclopaedia=benches/data/encyclopaedia_summaries.jsonl ...] \
           [--split test] [--words 75] [--out FILE.json]
"""
import argparse, json, os, random, re, subprocess, sys, time

from rouge_score import rouge_scorer
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from openers import dangling  # noqa: E402
from summarize_eval import Words  # noqa: E402  (sumy's tokenizer without NLTK data)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
CORPORA = [f"encyclopaedia={DATA}/encyclopaedia_summaries.jsonl",
           f"proposals={DATA}/proposal_sections.jsonl"]


def words(text):
    """simsum's word count for English text (tokens with a letter or digit)."""
    return sum(1 for w in text.split() if any(c.isalnum() for c in w))


def run(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return time.perf_counter() - t, p.stdout


def sumy_order(summarizer, sentences):
    """Sentence indices in the summarizer's order of preference (best first)."""
    doc = ObjectDocumentModel([Paragraph([Sentence(s, Words) for s in sentences])])
    ranked = []

    def keep_all(infos):
        ranked.extend(i.order for i in infos)
        return infos

    summarizer(doc, keep_all)
    return ranked


def fill(order, sentences, budget):
    """The sentences taken in `order` while they fit `budget` words, in document order."""
    picked, used = [], 0
    for i in order:
        n = words(sentences[i])
        if used + n <= budget:
            picked.append(i)
            used += n
    return sorted(picked)


def located(texts, sentences):
    first = {}
    for i, s in enumerate(sentences):
        first.setdefault(s, i)
    return sorted(first.get(t, -1) for t in texts)


def bootstrap(per_doc, resamples=2000, seed=0):
    n, rng = len(per_doc), random.Random(seed)
    idx = [[rng.randrange(n) for _ in range(n)] for _ in range(resamples)]
    return idx


def interval(values):
    values = sorted(values)
    k = len(values)
    return [round(values[int(0.025 * k)], 4), round(values[int(0.975 * k) - 1], 4)]


def evaluate(name, path, a, scorer):
    rows = [json.loads(l) for l in open(path)]
    rows = [r for r in rows if a.split == "all" or r["split"] == a.split]
    os.makedirs(a.work, exist_ok=True)
    docs = os.path.join(a.work, f"{name}-{a.split}.jsonl")
    with open(docs, "w") as fh:
        for r in rows:
            fh.write(json.dumps({"id": r["id"], "title": r["title"], "text": r["text"]}) + "\n")
    _, out = run([a.simsum, "sections", "--json", docs])
    sentences = {}
    for line in out.splitlines():
        d = json.loads(line)
        sentences[d["id"]] = [s["text"] for sec in d["sections"] for it in sec["initiatives"]
                              if not it["boilerplate"] for s in it["sentences"]
                              if s["text"].strip()]
    simsum_runs, seconds = {}, {}
    for label, extra in (("simsum", []), ("simsum blend (before)", ["--scorer", "blend"])):
        t, out = run([a.simsum, "summarize", "--each", "--json", "--words", str(a.words), docs]
                     + extra)
        seconds[label] = round(t, 1)
        simsum_runs[label] = {json.loads(l)["document"]: [s["text"] for s in
                                                          json.loads(l)["summary"]]
                              for l in out.splitlines()}
    stem = Stemmer("english")
    textrank, lexrank = TextRankSummarizer(stem), LexRankSummarizer(stem)
    textrank.stop_words = lexrank.stop_words = get_stop_words("english")
    systems = list(simsum_runs) + ["sumy LexRank", "sumy TextRank", "lead"]
    outs = {s: [] for s in systems}
    stats = {s: {"sentences": 0, "dangling": 0, "not_located": 0, "words": 0,
                 "over_budget": 0, "empty": 0} for s in systems}
    refs, skipped = [], 0
    for r in rows:
        sents = sentences.get(r["id"], [])
        if not sents:
            skipped += 1
            continue
        refs.append(r["reference"])
        picks = {label: located(run_[r["id"]], sents) if r["id"] in run_ else []
                 for label, run_ in simsum_runs.items()}
        picks["sumy LexRank"] = fill(sumy_order(lexrank, sents), sents, a.words)
        picks["sumy TextRank"] = fill(sumy_order(textrank, sents), sents, a.words)
        picks["lead"] = fill(range(len(sents)), sents, a.words)
        for s, pk in picks.items():
            text = [sents[i] for i in pk if i >= 0]
            if s in simsum_runs:  # simsum's own texts, in case one was not located
                text = simsum_runs[s].get(r["id"], [])
            outs[s].append(" ".join(text))
            st = stats[s]
            st["sentences"] += len(pk)
            st["not_located"] += sum(1 for i in pk if i < 0)
            st["dangling"] += dangling([(i, sents[i]) for i in pk if i >= 0])
            n = sum(words(t) for t in text)
            st["words"] += n
            st["over_budget"] += n > a.words
            st["empty"] += not text
    per_doc, result = {}, {"documents": len(refs), "documents_without_sentences": skipped,
                           "seconds_simsum_summarize": seconds, "systems": {}}
    for s in systems:
        scores = [scorer.score(ref, hyp) for ref, hyp in zip(refs, outs[s])]
        per_doc[s] = [x["rouge2"].fmeasure for x in scores]
        st = stats[s]
        result["systems"][s] = {
            **{k: round(sum(x[k].fmeasure for x in scores) / len(refs), 4)
               for k in ("rouge1", "rouge2", "rougeL")},
            "mean_words": round(st["words"] / len(refs), 1), "over_budget": st["over_budget"],
            "empty": st["empty"], "sentences": st["sentences"], "dangling": st["dangling"],
            "dangling_share": round(st["dangling"] / max(st["sentences"], 1), 4),
            "not_located": st["not_located"]}
    idx = bootstrap(refs)
    mean = lambda xs, ix: sum(xs[i] for i in ix) / len(ix)
    for s in systems:
        result["systems"][s]["rouge2_ci95"] = interval([mean(per_doc[s], ix) for ix in idx])
        if s == "simsum":
            continue
        diffs = [mean(per_doc["simsum"], ix) - mean(per_doc[s], ix) for ix in idx]
        ratios = [mean(per_doc["simsum"], ix) / max(mean(per_doc[s], ix), 1e-9) for ix in idx]
        result["systems"][s]["simsum_rouge2_lead"] = {
            "mean": round(mean(per_doc["simsum"], range(len(refs)))
                          - mean(per_doc[s], range(len(refs))), 4),
            "ci95": interval(diffs),
            "simsum_ahead_share": round(sum(d > 0 for d in diffs) / len(diffs), 4)}
        result["systems"][s]["simsum_rouge2_ratio"] = {
            "mean": round(mean(per_doc["simsum"], range(len(refs)))
                          / max(mean(per_doc[s], range(len(refs))), 1e-9), 3),
            "ci95": [round(x, 3) for x in interval(ratios)]}
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--simsum", default="target/debug/simsum")
    ap.add_argument("--corpus", action="append", help="NAME=CORPUS.jsonl (default: both)")
    ap.add_argument("--split", choices=["tune", "test", "all"], default="test")
    ap.add_argument("--words", type=int, default=75)
    ap.add_argument("--work", default="/tmp/simsum-quality/summaries75")
    ap.add_argument("--out")
    a = ap.parse_args()
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    load = os.getloadavg()
    flags = sorted(set(re.findall(r"\b(avx2|avx512f|avx512_bf16)\b", open("/proc/cpuinfo").read())))
    results = {"budget_words": a.words, "split": a.split, "cpu_flags": flags,
               "load_average_at_start": [round(x, 2) for x in load], "corpora": {}}
    for spec in a.corpus or CORPORA:
        name, path = spec.split("=", 1)
        results["corpora"][name] = evaluate(name, path, a, scorer)
        print(f"{name} done", file=sys.stderr)
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(results, indent=1)
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
