#!/usr/bin/env python3
"""Summarization quality and speed: simsum's one-sentence summaries against human references,
next to lead-1, random-1, and sumy's TextRank and LexRank (TF-IDF graph baselines).

Corpus: benches/data/manpage_summaries.jsonl (built by benches/corpora/build.py): for each manual
page of Debian's `manpages` and `manpages-dev`, the DESCRIPTION section (the document) and the
page's NAME one-liner (the human-written reference, e.g. "copy a file").

Every system picks one sentence from the same sentence segmentation (simsum's, read from
`simsum sections --json`), so the comparison is about which sentence is chosen, not about
splitting. ROUGE-1/2/L F1 with Google's `rouge-score` package (Porter stemming), averaged over
pages; simsum's ROUGE-2 lead over each baseline comes with a 95% paired-bootstrap interval.

Speed: `simsum summarize` on a 10,000-word document made of real manual-page text (embedding
every sentence included, model load included), median of three runs; `simsum bench summarize` on
it (time per stage, embedding GFLOP/s against the GEMM peak measured in the same run); with
--peer-model-dir, ONNX Runtime embedding the same distinct sentences in the same run; and
`summarize --doc` on the same document once indexed (stored vectors, no re-embedding).

Usage: benches/.venv/bin/python benches/quality/summarize_eval.py --simsum target/release/simsum
       [--data benches/data/manpage_summaries.jsonl] [--work DIR] [--out FILE.json]
"""
import argparse, json, os, random, shutil, statistics, subprocess, sys, time

from rouge_score import rouge_scorer
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from openers import dangling  # simsum's opener rule, lists read from src/text/openers.rs


class Words:
    """sumy word tokenizer without NLTK data downloads (letters/digits runs)."""
    language = "english"

    @staticmethod
    def to_words(text):
        import re
        return re.findall(r"[A-Za-z0-9]+(?:['_-][A-Za-z0-9]+)*", text)


def run(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return time.perf_counter() - t, p.stdout


def sumy_pick(summarizer, sentences, k):
    doc = ObjectDocumentModel([Paragraph([Sentence(s, Words) for s in sentences])])
    return [str(s) for s in summarizer(doc, k)]


def placed(texts, sents):
    """[(position, text)] of picked sentence texts in the document's sentence list (the first
    occurrence: simsum keeps the first of exact repeats); position -1 when not found."""
    first = {}
    for i, s in enumerate(sents):
        first.setdefault(s, i)
    return [(first.get(t, -1), t) for t in texts]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--simsum", default="target/release/simsum")
    ap.add_argument("--data", default="benches/data/manpage_summaries.jsonl")
    ap.add_argument("--work", default="/tmp/simsum-quality/summarize")
    ap.add_argument("--out")
    ap.add_argument("--split", choices=["all", "tune", "test"], default="all",
                    help="tune: pages 0, 2, 4, ... (where simsum's defaults were chosen); "
                         "test: pages 1, 3, 5, ...")
    ap.add_argument("--position-weight", type=float,
                    help="passed to simsum summarize (default: simsum's default)")
    ap.add_argument("--lexical-weight", type=float,
                    help="passed to simsum summarize (default: simsum's default)")
    ap.add_argument("--no-speed", action="store_true", help="skip the 10,000-word timing")
    ap.add_argument("--peer-model-dir",
                    help="the model's directory: also time ONNX Runtime embedding the 10,000-word "
                         "document's distinct sentences (benches/peers/embed_peers.py)")
    ap.add_argument("--k", type=int, default=1, help="sentences per summary, for every system")
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)

    # Pages that are aliases of another (same DESCRIPTION) count once.
    pages, seen = [], set()
    for line in open(a.data):
        p = json.loads(line)
        if p["text"] not in seen:
            seen.add(p["text"])
            pages.append(p)
    all_pages = pages
    if a.split != "all":
        pages = pages[0 if a.split == "tune" else 1::2]
    docs = os.path.join(a.work, "pages.jsonl")
    with open(docs, "w") as fh:
        for p in pages:
            fh.write(json.dumps({"id": p["id"], "title": p["id"], "text": p["text"]}) + "\n")

    # simsum's sentence segmentation, shared by every system. Documents are matched by title
    # (the page name): simsum turns record ids into slugs.
    _, out = run([a.simsum, "sections", "--json", docs])
    sentences = {}
    for line in out.splitlines():
        d = json.loads(line)
        sentences[d["title"]] = [s["text"] for sec in d["sections"] for it in sec["initiatives"]
                              if not it["boilerplate"] for s in it["sentences"]]
    extra = [] if a.position_weight is None else ["--position-weight", str(a.position_weight)]
    if a.lexical_weight is not None:
        extra += ["--lexical-weight", str(a.lexical_weight)]
    t_sum, out = run([a.simsum, "summarize", "--each", "--json", "--sentences", str(a.k), docs] + extra)
    picked = {}
    for line in out.splitlines():
        d = json.loads(line)
        picked[d["title"]] = [s["text"] for s in d["summary"]]

    stem = Stemmer("english")
    textrank, lexrank = TextRankSummarizer(stem), LexRankSummarizer(stem)
    textrank.stop_words = lexrank.stop_words = get_stop_words("english")
    rng = random.Random(0)
    lead, rand = f"lead-{a.k}", f"random-{a.k}"
    systems = {"simsum": [], lead: [], rand: [], "sumy-textrank": [], "sumy-lexrank": []}
    # Per system: summary sentences, and those that lean on a sentence the summary lacks
    # (issue 20's "dangling openers"), by simsum's own rule.
    openers = {name: [0, 0, 0] for name in systems}  # sentences, dangling, not located
    refs, empty = [], 0
    for p in pages:
        sents = sentences.get(p["id"], [])
        if not sents:
            empty += 1
            continue
        refs.append(p["reference"])
        picks = sorted(rng.sample(range(len(sents)), min(a.k, len(sents))))
        chosen = {"simsum": placed(picked.get(p["id"], []), sents),
                  lead: [(i, sents[i]) for i in range(min(a.k, len(sents)))],
                  rand: [(i, sents[i]) for i in picks],
                  "sumy-textrank": placed(sumy_pick(textrank, sents, a.k), sents),
                  "sumy-lexrank": placed(sumy_pick(lexrank, sents, a.k), sents)}
        for name, pk in chosen.items():
            systems[name].append(" ".join(t for _, t in pk))
            openers[name][0] += len(pk)
            openers[name][1] += dangling([(i, t) for i, t in pk if i >= 0])
            openers[name][2] += sum(1 for i, _ in pk if i < 0)

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    results = {"corpus": os.path.basename(a.data), "split": a.split,
               "position_weight": a.position_weight, "lexical_weight": a.lexical_weight, "sentences_per_summary": a.k, "pages": len(refs),
               "pages_without_sentences": empty,
               "seconds_simsum_summarize_all": round(t_sum, 2), "rouge_f1": {}}
    per_page = {}
    for name, outs in systems.items():
        rows = [scorer.score(ref, hyp) for ref, hyp in zip(refs, outs)]
        per_page[name] = [r["rouge2"].fmeasure for r in rows]
        results["rouge_f1"][name] = {k: round(sum(r[k].fmeasure for r in rows) / len(refs), 4)
                                     for k in ("rouge1", "rouge2", "rougeL")}
    results["dangling_openers"] = {
        name: {"sentences": n, "dangling": d, "share": round(d / max(n, 1), 4),
               "not_located": u} for name, (n, d, u) in openers.items()}
    results["rouge2_difference_vs_simsum"] = {
        name: paired_bootstrap(per_page["simsum"], per_page[name])
        for name in systems if name != "simsum"}

    if not a.no_speed:
        speed(a, all_pages, results)
    text = json.dumps(results, indent=1)
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text + "\n")
    print(text)


def paired_bootstrap(ours, theirs, resamples=2000, seed=0):
    """simsum's mean ROUGE-2 minus a baseline's, with a 95% paired-bootstrap interval over pages
    (resampling pages, both systems together), and the share of resamples where simsum is ahead."""
    diff = [a - b for a, b in zip(ours, theirs)]
    n, rng = len(diff), random.Random(seed)
    means = sorted(sum(diff[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    return {"mean": round(sum(diff) / n, 4),
            "ci95": [round(means[int(0.025 * resamples)], 4),
                     round(means[int(0.975 * resamples) - 1], 4)],
            "simsum_ahead_share": round(sum(m > 0 for m in means) / resamples, 4)}


def speed(a, all_pages, results):
    # Speed: a 10,000-word document of real text (manual-page descriptions, in corpus order).
    words, paras = 0, []
    for p in all_pages:
        if words >= 10000:
            break
        paras.append(p["text"])
        words += len(p["text"].split())
    long_doc = os.path.join(a.work, "long-10k-words.txt")
    with open(long_doc, "w") as fh:
        fh.write("Manual pages\n\n" + "\n\n".join(paras) + "\n")
    times = [run([a.simsum, "summarize", long_doc])[0] for _ in range(3)]
    index = os.path.join(a.work, "index")
    run([a.simsum, "--index", index, "index", long_doc])
    doc_id = "long-10k-words"  # the file stem
    stored = [run([a.simsum, "--index", index, "summarize", "--doc", doc_id])[0]
              for _ in range(3)]
    results["speed"] = {"document_words": words, "sentences": None,
                        "seconds_file_median": round(statistics.median(times), 3),
                        "seconds_file_runs": [round(t, 3) for t in times],
                        "seconds_indexed_median": round(statistics.median(stored), 3)}
    _, out = run([a.simsum, "sections", "--json", long_doc])
    d = json.loads(out.splitlines()[0])
    sents = [s["text"] for sec in d["sections"] for it in sec["initiatives"]
             if not it["boilerplate"] for s in it["sentences"] if s["text"].strip()]
    results["speed"]["sentences"] = len(sents)
    # Stage by stage (model load, read + split, embeddings against the GEMM peak, rank + pick).
    _, out = run([a.simsum, "bench", "summarize", "--json", "--repeat", "3", long_doc])
    results["speed"]["simsum_stages"] = json.loads(out)
    if a.peer_model_dir:
        # The embedding peer on the same distinct sentences, in the same run: what the fastest
        # Python stack needs for the embeddings alone.
        seen, distinct = set(), []
        for text in (" ".join(s.split()) for s in sents):
            if text.lower() not in seen:
                seen.add(text.lower())
                distinct.append(text)
        path = os.path.join(a.work, "long-10k-sentences.txt")
        with open(path, "w") as fh:
            fh.write("\n".join(distinct) + "\n")
        peers = os.path.join(os.path.dirname(__file__), "..", "peers", "embed_peers.py")
        _, out = run([sys.executable, peers, "--model-dir", a.peer_model_dir, "--texts", path,
                      "--peers", "onnxruntime"])
        ort = [json.loads(l) for l in out.splitlines() if l.startswith("{")][-1]
        simsum_embed = next(st["median_seconds"] for st in results["speed"]["simsum_stages"]["stages"]
                            if st["stage"] == "embed sentences")
        results["speed"]["onnxruntime_embed_seconds"] = round(ort["seconds"], 3)
        results["speed"]["onnxruntime_texts"] = ort["texts"]
        results["speed"]["simsum_embed_speedup_vs_onnxruntime"] = round(ort["seconds"] / simsum_embed, 3)


if __name__ == "__main__":
    main()
