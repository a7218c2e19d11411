//! BERT-family sentence-transformer run through candle (in progress).
