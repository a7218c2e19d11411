//! Embedding parity with sentence-transformers (golden vectors in tests/data), batching
//! invariance, and the pooling modes on a tiny model the test builds itself.

use simsum::embed::bert::{BertEmbedder, BertOptions};
use simsum::embed::{cosine, Embedder};
use simsum::embed::{DType, Device};
use simsum::model::{self, ResolveOptions, DEFAULT_MODEL};

#[derive(serde::Deserialize)]
struct Golden {
    items: Vec<GoldenItem>,
}

#[derive(serde::Deserialize)]
struct GoldenItem {
    text: String,
    n_tokens: usize,
    truncated: bool,
    embedding: Vec<f32>,
}

fn golden() -> Golden {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/all-MiniLM-L6-v2.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The default model, acquired through the same code users run (fetching it if needed).
fn minilm(batch_size: usize) -> BertEmbedder {
    let files = model::resolve(DEFAULT_MODEL, &ResolveOptions::default())
        .unwrap_or_else(|e| panic!("the parity tests need the default model: {e}"));
    let opts = BertOptions {
        device: Device::Cpu,
        dtype: DType::F32,
        batch_size,
        ..Default::default()
    };
    BertEmbedder::load(&files, opts).unwrap()
}

#[test]
fn parity_with_sentence_transformers_f32() {
    let golden = golden();
    assert_eq!(golden.items.len(), 47);
    let e = minilm(16);
    let texts: Vec<&str> = golden.items.iter().map(|i| i.text.as_str()).collect();
    let out = e.embed(&texts).unwrap();
    let mut worst = 1.0f32;
    for (g, o) in golden.items.iter().zip(&out) {
        let c = cosine(&g.embedding, &o.vector);
        worst = worst.min(c);
        assert!(
            c >= 0.99999,
            "cosine {c} < 0.99999 for {:?}",
            &g.text[..g.text.len().min(60)]
        );
        assert_eq!(
            o.n_tokens,
            g.n_tokens,
            "n_tokens for {:?}",
            &g.text[..g.text.len().min(60)]
        );
        assert_eq!(
            o.truncated,
            g.truncated,
            "truncated for {:?}",
            &g.text[..g.text.len().min(60)]
        );
    }
    assert!(
        golden.items.iter().any(|g| g.truncated),
        "the golden set has a truncated item"
    );
    assert_eq!(
        e.truncated_count(),
        golden.items.iter().filter(|g| g.truncated).count()
    );
    eprintln!("worst cosine to sentence-transformers: {worst:.7}");
}

#[test]
fn a_text_alone_equals_the_same_text_in_a_padded_batch() {
    let e = minilm(8);
    let short = "Vocational training for local workers.";
    let long = "Beijing Construction Engineering Group has trained a large number of skilled \
                workers in more than 20 countries, with a training base in Angola.";
    let alone = e.embed(&[short]).unwrap().remove(0);
    let batch = e.embed(&[long, short, "", long]).unwrap();
    let c = cosine(&alone.vector, &batch[1].vector);
    assert!(c > 0.999999, "alone vs padded batch: cosine {c}");
    let diff = alone
        .vector
        .iter()
        .zip(&batch[1].vector)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(diff < 1e-5, "max abs difference {diff}");
}

#[test]
fn repeated_texts_are_embedded_once_and_keep_their_places() {
    let e = minilm(2);
    let texts = [
        "Solar panels on the school roof.",
        "Photo: the new clinic.",
        "solar panels on the school roof.",
        "Solar panels on the school roof.",
        "A third, different sentence.",
    ];
    let before = e.truncated_count();
    let together = e.embed(&texts).unwrap();
    assert_eq!(together.len(), texts.len());
    // Same token ids (the model is uncased): the very same vector, in every place.
    assert_eq!(together[0], together[2]);
    assert_eq!(together[0], together[3]);
    for (t, v) in texts.iter().zip(&together) {
        let alone = e.embed(&[t]).unwrap().remove(0);
        assert!(
            cosine(&alone.vector, &v.vector) > 0.99999,
            "{t:?} misplaced"
        );
    }
    assert!(cosine(&together[0].vector, &together[1].vector) < 0.9);
    assert_eq!(e.truncated_count(), before);
}

#[test]
fn outputs_keep_input_order_and_are_normalised() {
    let e = minilm(2);
    let texts = [
        "a",
        "a much longer sentence about environmental protection",
        "b c",
        "",
    ];
    let together = e.embed(&texts).unwrap();
    for (t, v) in texts.iter().zip(&together) {
        let alone = e.embed(&[t]).unwrap().remove(0);
        assert!(
            cosine(&alone.vector, &v.vector) > 0.99999,
            "order broken for {t:?}"
        );
        let norm: f32 = v.vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
    }
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// Pearson correlation of model cosine with the 1,225 human ratings of the Lee corpus.
fn lee_pearson(e: &dyn Embedder) -> f64 {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lee");
    let docs = std::fs::read_to_string(format!("{dir}/lee-docs.txt")).unwrap();
    let docs: Vec<&str> = docs.lines().collect();
    let sims = std::fs::read_to_string(format!("{dir}/lee-similarities.txt")).unwrap();
    let sims: Vec<Vec<f64>> = sims
        .lines()
        .map(|l| l.split('\t').map(|v| v.trim().parse().unwrap()).collect())
        .collect();
    assert_eq!((docs.len(), sims.len()), (50, 50));
    let v = e.embed(&docs).unwrap();
    let (mut human, mut model) = (Vec::new(), Vec::new());
    for i in 0..50 {
        for j in i + 1..50 {
            human.push(sims[i][j]);
            model.push(simsum::embed::dot(&v[i].vector, &v[j].vector) as f64);
        }
    }
    assert_eq!(human.len(), 1225);
    pearson(&human, &model)
}

#[test]
fn lee_correlation_matches_the_reference_figure() {
    // sentence-transformers with this model: Pearson 0.6564 (tests/data/lee, shared/data README).
    let p = lee_pearson(&minilm(32));
    eprintln!("Lee Pearson: {p:.4}");
    assert!((p - 0.6564).abs() < 0.001, "Pearson {p}");
}

fn minilm_at(dtype: DType) -> BertEmbedder {
    let files = model::resolve(DEFAULT_MODEL, &ResolveOptions::default()).unwrap();
    let opts = BertOptions {
        device: Device::Cpu,
        dtype,
        ..Default::default()
    };
    BertEmbedder::load(&files, opts).unwrap()
}

/// None (after printing why) where this CPU cannot run the bf16 kernel: the model would run as
/// f32 and a bf16 accuracy test would test nothing. The kernel's packing and arithmetic are
/// tested on every CPU in src/embed/bf16.rs.
fn minilm_bf16(test: &str) -> Option<BertEmbedder> {
    if !simsum::embed::CpuFeatures::get().bf16_products() {
        eprintln!(
            "SKIPPED {test}: this CPU ({}) has no AVX-512 BF16, so bf16 would run as f32",
            simsum::embed::CpuFeatures::get()
        );
        return None;
    }
    let e = minilm_at(DType::Bf16);
    assert_eq!(e.dtype(), DType::Bf16);
    Some(e)
}

#[test]
fn auto_default_stays_within_0_9999_of_f32_on_the_parity_texts() {
    let golden = golden();
    let texts: Vec<&str> = golden.items.iter().map(|i| i.text.as_str()).collect();
    let auto = minilm_at(DType::Auto);
    let f32 = minilm(32);
    // Auto is bf16 only where this build's bf16 products measured faster than f32 here (a dev
    // build's are slower): the decision is the measurement's, checked against it.
    let speedup = simsum::embed::calibrate::bf16_speedup();
    let want = if simsum::embed::CpuFeatures::get().bf16_products() {
        eprintln!("note: bf16 products measured {speedup:?}x f32 here");
        if speedup.is_some_and(|x| x >= simsum::embed::calibrate::MARGIN) {
            DType::Bf16
        } else {
            DType::F32
        }
    } else {
        eprintln!(
            "note: this CPU ({}) has no AVX-512 BF16, so auto runs f32 here; the bf16 side of \
             this check runs only on CPUs that have it",
            simsum::embed::CpuFeatures::get()
        );
        DType::F32
    };
    assert_eq!(auto.dtype(), want);
    let (a, b) = (auto.embed(&texts).unwrap(), f32.embed(&texts).unwrap());
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| cosine(&x.vector, &y.vector))
        .fold(1.0f32, f32::min);
    eprintln!("auto ({}) worst cosine to f32: {worst:.6}", auto.dtype());
    assert!(worst >= 0.9999, "worst cosine {worst}");
    // Whichever auto picked, bf16 must keep the same bound wherever it could be picked.
    if let Some(bf16) = minilm_bf16("auto_default_stays_within_0_9999_of_f32 (bf16 side)") {
        let c = bf16.embed(&texts).unwrap();
        let worst = c
            .iter()
            .zip(&b)
            .map(|(x, y)| cosine(&x.vector, &y.vector))
            .fold(1.0f32, f32::min);
        assert!(worst >= 0.9999, "bf16 worst cosine to f32 {worst}");
    }
}

#[test]
fn bf16_stays_within_0_999_of_sentence_transformers() {
    let golden = golden();
    let Some(e) = minilm_bf16("bf16_stays_within_0_999_of_sentence_transformers") else {
        return;
    };
    let texts: Vec<&str> = golden.items.iter().map(|i| i.text.as_str()).collect();
    let out = e.embed(&texts).unwrap();
    let worst = golden
        .items
        .iter()
        .zip(&out)
        .map(|(g, o)| cosine(&g.embedding, &o.vector))
        .fold(1.0f32, f32::min);
    eprintln!("bf16 worst cosine to sentence-transformers: {worst:.6}");
    assert!(worst >= 0.999, "worst cosine {worst}");
}

#[test]
fn bf16_lee_correlation_within_0_005_of_f32() {
    let Some(e) = minilm_bf16("bf16_lee_correlation_within_0_005_of_f32") else {
        return;
    };
    let p = lee_pearson(&e);
    eprintln!("bf16 Lee Pearson: {p:.4} (f32: 0.6564)");
    assert!((p - 0.6564).abs() < 0.005, "Pearson {p}");
}
