//! A tiny BERT sentence-transformer built by the test (random weights saved as safetensors, a
//! hand-written WordPiece tokenizer) checks every pooling mode against a plain, loop-by-loop
//! reference forward pass, with no download.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use simsum::embed::bert::{BertEmbedder, BertOptions};
use simsum::embed::settings::{Engine, MatmulKernel};
use simsum::embed::{cosine, CpuFeatures, DType as SimsumDType, Device as SimsumDevice, Embedder};
use simsum::model::{ModelFiles, ModelSource, Pooling};

const VOCAB: [&str; 16] = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "workers", "training", "local", "green", "energy",
    "trade", "a", "of", "and", "##s", "in",
];
const LAYERS: usize = 2;
const MAX_POS: usize = 32;

/// The encoder's sizes.
#[derive(Clone, Copy, Debug)]
struct Dims {
    h: usize,
    heads: usize,
    inter: usize,
}

/// Small enough to check by eye; only its intermediate product (width 16) can be packed, the
/// others (widths 8 and 24) stay with the `gemm` crate.
const TINY: Dims = Dims {
    h: 8,
    heads: 2,
    inter: 16,
};

/// Widths that are multiples of 32 (qkv 192, hidden 64, intermediate 128), so the packed f32
/// kernel (AVX2) and the bf16 kernel (AVX-512 BF16) take every weight.
const PACKABLE: Dims = Dims {
    h: 64,
    heads: 4,
    inter: 128,
};

fn tokenizer_json() -> String {
    let vocab: serde_json::Map<String, serde_json::Value> = VOCAB
        .iter()
        .enumerate()
        .map(|(i, t)| (t.to_string(), i.into()))
        .collect();
    let special = |t: &str, id: usize| serde_json::json!({"id": t, "ids": [id], "tokens": [t]});
    let added: Vec<serde_json::Value> = [0usize, 1, 2, 3]
        .iter()
        .map(|&i| {
            serde_json::json!({"id": i, "content": VOCAB[i], "single_word": false,
                "lstrip": false, "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": true,
            "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": special("[CLS]", 2), "[SEP]": special("[SEP]", 3)}},
        "decoder": null,
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100, "vocab": vocab}
    })
    .to_string()
}

/// Writes a complete tiny model directory with the given pooling mode and returns its weights.
fn build_model(dir: &Path, pooling: &str, max_seq: usize, dm: Dims) -> HashMap<String, Tensor> {
    let dev = Device::Cpu;
    let mut w: HashMap<String, Tensor> = HashMap::new();
    let mut put = |name: String, shape: &[usize], scale: f64| {
        let t = (Tensor::randn(0f32, 1f32, shape, &dev).unwrap() * scale).unwrap();
        w.insert(name, t);
    };
    put(
        "embeddings.word_embeddings.weight".into(),
        &[VOCAB.len(), dm.h],
        1.0,
    );
    put(
        "embeddings.position_embeddings.weight".into(),
        &[MAX_POS, dm.h],
        0.5,
    );
    put(
        "embeddings.token_type_embeddings.weight".into(),
        &[2, dm.h],
        0.5,
    );
    put("embeddings.LayerNorm.weight".into(), &[dm.h], 0.3);
    put("embeddings.LayerNorm.bias".into(), &[dm.h], 0.3);
    for l in 0..LAYERS {
        let p = format!("encoder.layer.{l}");
        for m in ["query", "key", "value"] {
            put(format!("{p}.attention.self.{m}.weight"), &[dm.h, dm.h], 0.5);
            put(format!("{p}.attention.self.{m}.bias"), &[dm.h], 0.1);
        }
        put(
            format!("{p}.attention.output.dense.weight"),
            &[dm.h, dm.h],
            0.5,
        );
        put(format!("{p}.attention.output.dense.bias"), &[dm.h], 0.1);
        put(
            format!("{p}.attention.output.LayerNorm.weight"),
            &[dm.h],
            0.3,
        );
        put(format!("{p}.attention.output.LayerNorm.bias"), &[dm.h], 0.3);
        put(
            format!("{p}.intermediate.dense.weight"),
            &[dm.inter, dm.h],
            0.5,
        );
        put(format!("{p}.intermediate.dense.bias"), &[dm.inter], 0.1);
        put(format!("{p}.output.dense.weight"), &[dm.h, dm.inter], 0.5);
        put(format!("{p}.output.dense.bias"), &[dm.h], 0.1);
        put(format!("{p}.output.LayerNorm.weight"), &[dm.h], 0.3);
        put(format!("{p}.output.LayerNorm.bias"), &[dm.h], 0.3);
    }
    // LayerNorm weights around 1 keep activations in a sane range.
    for (k, t) in w.iter_mut() {
        if k.ends_with("LayerNorm.weight") {
            *t = (t.clone() + 1.0).unwrap();
        }
    }
    candle_core::safetensors::save(&w, dir.join("model.safetensors")).unwrap();
    let config = serde_json::json!({
        "architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
        "vocab_size": VOCAB.len(), "hidden_size": dm.h, "num_hidden_layers": LAYERS,
        "num_attention_heads": dm.heads, "intermediate_size": dm.inter,
        "max_position_embeddings": MAX_POS, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
        "pad_token_id": 0
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    std::fs::write(dir.join("tokenizer.json"), tokenizer_json()).unwrap();
    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    let pool = serde_json::json!({
        "word_embedding_dimension": dm.h,
        "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling == "mean",
        "pooling_mode_max_tokens": pooling == "max",
        "pooling_mode_mean_sqrt_len_tokens": false
    });
    std::fs::write(dir.join("1_Pooling/config.json"), pool.to_string()).unwrap();
    let sbert = serde_json::json!({"max_seq_length": max_seq, "do_lower_case": false});
    std::fs::write(dir.join("sentence_bert_config.json"), sbert.to_string()).unwrap();
    w
}

fn get(w: &HashMap<String, Tensor>, name: &str) -> Vec<f64> {
    w[name]
        .to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// y = x W^T + b for one row.
fn dense(x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
    let (out, inp) = (b.len(), x.len());
    (0..out)
        .map(|o| b[o] + (0..inp).map(|i| x[i] * w[o * inp + i]).sum::<f64>())
        .collect()
}

fn layer_norm(x: &[f64], g: &[f64], b: &[f64]) -> Vec<f64> {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    x.iter()
        .enumerate()
        .map(|(i, v)| (v - mean) / (var + 1e-12).sqrt() * g[i] + b[i])
        .collect()
}

/// The plain reference forward pass for one unpadded sequence, then pooling.
fn reference(w: &HashMap<String, Tensor>, ids: &[u32], pooling: &str, dm: Dims) -> Vec<f32> {
    let g = |n: &str| get(w, n);
    let (we, pe, te) = (
        g("embeddings.word_embeddings.weight"),
        g("embeddings.position_embeddings.weight"),
        g("embeddings.token_type_embeddings.weight"),
    );
    let (lg, lb) = (
        g("embeddings.LayerNorm.weight"),
        g("embeddings.LayerNorm.bias"),
    );
    let mut x: Vec<Vec<f64>> = ids
        .iter()
        .enumerate()
        .map(|(p, &id)| {
            let e: Vec<f64> = (0..dm.h)
                .map(|j| we[id as usize * dm.h + j] + pe[p * dm.h + j] + te[j])
                .collect();
            layer_norm(&e, &lg, &lb)
        })
        .collect();
    let d = dm.h / dm.heads;
    for l in 0..LAYERS {
        let p = |s: &str| g(&format!("encoder.layer.{l}.{s}"));
        let q: Vec<_> = x
            .iter()
            .map(|r| {
                dense(
                    r,
                    &p("attention.self.query.weight"),
                    &p("attention.self.query.bias"),
                )
            })
            .collect();
        let k: Vec<_> = x
            .iter()
            .map(|r| {
                dense(
                    r,
                    &p("attention.self.key.weight"),
                    &p("attention.self.key.bias"),
                )
            })
            .collect();
        let v: Vec<_> = x
            .iter()
            .map(|r| {
                dense(
                    r,
                    &p("attention.self.value.weight"),
                    &p("attention.self.value.bias"),
                )
            })
            .collect();
        let n = x.len();
        let mut ctx = vec![vec![0.0; dm.h]; n];
        for h in 0..dm.heads {
            for i in 0..n {
                let s: Vec<f64> = (0..n)
                    .map(|j| {
                        (0..d)
                            .map(|t| q[i][h * d + t] * k[j][h * d + t])
                            .sum::<f64>()
                            / (d as f64).sqrt()
                    })
                    .collect();
                let m = s.iter().cloned().fold(f64::MIN, f64::max);
                let e: Vec<f64> = s.iter().map(|v| (v - m).exp()).collect();
                let z: f64 = e.iter().sum();
                for t in 0..d {
                    ctx[i][h * d + t] = (0..n).map(|j| e[j] / z * v[j][h * d + t]).sum();
                }
            }
        }
        for i in 0..n {
            let a = dense(
                &ctx[i],
                &p("attention.output.dense.weight"),
                &p("attention.output.dense.bias"),
            );
            let r: Vec<f64> = a.iter().zip(&x[i]).map(|(a, b)| a + b).collect();
            let y = layer_norm(
                &r,
                &p("attention.output.LayerNorm.weight"),
                &p("attention.output.LayerNorm.bias"),
            );
            let inter: Vec<f64> = dense(
                &y,
                &p("intermediate.dense.weight"),
                &p("intermediate.dense.bias"),
            )
            .into_iter()
            .map(|u| 0.5 * u * (1.0 + candle_core::cpu::erf::erf_f64(u / 2f64.sqrt())))
            .collect();
            let o = dense(&inter, &p("output.dense.weight"), &p("output.dense.bias"));
            let r: Vec<f64> = o.iter().zip(&y).map(|(a, b)| a + b).collect();
            x[i] = layer_norm(
                &r,
                &p("output.LayerNorm.weight"),
                &p("output.LayerNorm.bias"),
            );
        }
    }
    let pooled: Vec<f64> = match pooling {
        "cls" => x[0].clone(),
        "max" => (0..dm.h)
            .map(|j| x.iter().map(|r| r[j]).fold(f64::MIN, f64::max))
            .collect(),
        _ => (0..dm.h)
            .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / x.len() as f64)
            .collect(),
    };
    pooled.into_iter().map(|v| v as f32).collect()
}

fn check_pooling(pooling: &str, expected: Pooling) {
    check_pooling_at(pooling, expected, TINY);
}

fn check_pooling_at(pooling: &str, expected: Pooling, dm: Dims) {
    let dir = tempfile::tempdir().unwrap();
    let w = build_model(dir.path(), pooling, 6, dm);
    let files = ModelFiles::load("tiny", ModelSource::LocalDir, dir.path(), None).unwrap();
    assert_eq!(files.pooling, expected);
    let tok = tokenizers::Tokenizer::from_file(dir.path().join("tokenizer.json")).unwrap();
    // Both encoder implementations: the packed f32 CPU path and candle's tensor path.
    for force_candle in [false, true] {
        let opts = BertOptions {
            device: SimsumDevice::Cpu,
            dtype: SimsumDType::F32,
            normalize: false,
            batch_size: 3,
            force_candle,
            centre_languages: false,
        };
        let e = BertEmbedder::load(&files, opts).unwrap();
        if !force_candle {
            let forms = e.weight_forms().expect("the CPU path");
            eprintln!(
                "{dm:?}: f32 CPU path with {:?}, weights (plain, packed f32, bf16) = {forms:?}",
                e.engine()
            );
            // The packed layout takes output widths that are multiples of the tile's panel
            // (16 or 32): per layer the qkv (3h), out (h), intermediate (inter) and out2 (h)
            // products.
            let all = 4 * LAYERS;
            let packable = |panel: usize| {
                LAYERS
                    * [3 * dm.h, dm.h, dm.inter, dm.h]
                        .iter()
                        .filter(|n| *n % panel == 0)
                        .count()
            };
            match e.engine() {
                Engine::Cpu(MatmulKernel::PackedF32(tile)) => {
                    let packed = packable(tile.panel_width());
                    assert_eq!(forms, (all - packed, packed, 0))
                }
                _ => assert_eq!(forms, (all, 0, 0)),
            }
        }
        let texts = [
            "the workers",
            "training of local workers and green energy",
            "",
            "trade",
        ];
        let out = e.embed(&texts).unwrap();
        for (t, o) in texts.iter().zip(&out) {
            let mut ids = tok.encode(*t, true).unwrap().get_ids().to_vec();
            let truncated = ids.len() > 6;
            if truncated {
                // Keep [CLS] + first tokens, end with [SEP], as the truncating tokenizer does.
                ids.truncate(5);
                ids.push(3);
            }
            assert_eq!(o.n_tokens, ids.len(), "{t:?}");
            assert_eq!(o.truncated, truncated, "{t:?}");
            let r = reference(&w, &ids, pooling, dm);
            let c = cosine(&r, &o.vector);
            let diff = r
                .iter()
                .zip(&o.vector)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(
                c > 0.99999 && diff < 1e-4,
                "{pooling} pooling of {t:?} (candle path: {force_candle}): cosine {c}, diff {diff}"
            );
        }
    }
}

#[test]
fn cls_pooling_matches_reference_forward() {
    check_pooling("cls", Pooling::Cls);
}

#[test]
fn max_pooling_matches_reference_forward() {
    check_pooling("max", Pooling::Max);
}

#[test]
fn mean_pooling_matches_reference_forward() {
    check_pooling("mean", Pooling::Mean);
}

#[test]
fn mean_pooling_through_the_packed_kernels_matches_reference_forward() {
    // The same reference check at widths every packed weight layout takes (multiples of 32),
    // so the f32 CPU path multiplies through simsum's packed kernel: the AVX-512 tile where the
    // CPU has AVX-512, the AVX2 one where it has AVX2 (check_pooling_at asserts that every
    // weight was packed).
    let features = CpuFeatures::get();
    let want = simsum::embed::settings::f32_kernel(features);
    if !matches!(want, MatmulKernel::PackedF32(_)) {
        eprintln!(
            "note: this CPU ({features}) uses {want:?} for f32, not a packed kernel; \
             the packed layouts are still tested portably in src/embed/sgemm.rs"
        );
    }
    check_pooling_at("mean", Pooling::Mean, PACKABLE);
    if let MatmulKernel::PackedF32(tile) = want {
        eprintln!("the packable model ran every weight product through the packed {tile:?} kernel");
    }
}

#[test]
fn bf16_kernel_on_a_packable_model_stays_close_to_the_reference() {
    let features = CpuFeatures::get();
    if !features.bf16_products() {
        eprintln!(
            "SKIPPED bf16_kernel_on_a_packable_model_stays_close_to_the_reference: this CPU \
             ({features}) has no AVX-512 BF16 (packing and bf16 arithmetic are tested portably \
             in src/embed/bf16.rs)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let w = build_model(dir.path(), "mean", 16, PACKABLE);
    let files = ModelFiles::load("tiny", ModelSource::LocalDir, dir.path(), None).unwrap();
    let tok = tokenizers::Tokenizer::from_file(dir.path().join("tokenizer.json")).unwrap();
    let opts = BertOptions {
        device: SimsumDevice::Cpu,
        dtype: SimsumDType::Bf16,
        normalize: false,
        batch_size: 3,
        force_candle: false,
        centre_languages: false,
    };
    let e = BertEmbedder::load(&files, opts).unwrap();
    assert_eq!(e.engine(), Engine::Cpu(MatmulKernel::Bf16));
    assert_eq!(e.weight_forms(), Some((0, 0, 4 * LAYERS)));
    for t in ["the workers", "training of local workers and green energy"] {
        let ids = tok.encode(t, true).unwrap().get_ids().to_vec();
        let r = reference(&w, &ids, "mean", PACKABLE);
        let c = cosine(&r, &e.embed(&[t]).unwrap()[0].vector);
        assert!(c > 0.999, "{t:?}: cosine {c}");
    }
}

#[test]
fn configs_asking_for_unimplemented_parts_are_refused() {
    for (key, value, named) in [
        ("hidden_act", "gelu_new", "hidden_act `gelu_new`"),
        ("hidden_act", "relu", "hidden_act `relu`"),
        (
            "position_embedding_type",
            "relative_key_query",
            "position_embedding_type `relative_key_query`",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        build_model(dir.path(), "mean", 6, TINY);
        let path = dir.path().join("config.json");
        let mut config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        config[key] = value.into();
        std::fs::write(&path, config.to_string()).unwrap();
        let err = ModelFiles::load("tiny", ModelSource::LocalDir, dir.path(), None)
            .err()
            .unwrap_or_else(|| panic!("{key} = {value} was accepted"))
            .to_string();
        assert!(err.contains(named) && err.contains("config.json"), "{err}");
    }
}

#[test]
fn corrupt_weights_are_rejected_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    build_model(dir.path(), "mean", 6, TINY);
    let p = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let err = ModelFiles::load("tiny", ModelSource::LocalDir, dir.path(), None).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("model.safetensors") && msg.contains("truncated"),
        "{msg}"
    );
}
