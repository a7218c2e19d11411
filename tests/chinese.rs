//! Chinese reports: the test report of `tests/data/zh/` (a Chinese rendering of seed III)
//! parses into the seeds' layout (title, `日期：` date, `一、` sections, `（一）` subsections,
//! captions, sentences at full-width marks); a GBK copy of it parses the same; Chinese HTML
//! lines join without spaces; its countries, years and organisations are found in Chinese; and
//! BM25 finds its paragraphs by Chinese, English and mixed queries, with `why` ranges that
//! fall on character boundaries.

mod support;

use std::path::{Path, PathBuf};

use simsum::ingest::{
    estimate_tokens, ingest_paths, parse_document, Document, IngestOptions, Initiative,
};
use simsum::store::lexical::LexicalIndex;
use simsum::text::lexical;
use support::{json_output, simsum};

fn report_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/zh/000_zh_people_to_people_iii.txt")
}

/// A budget no paragraph reaches, so initiative counts equal paragraph counts.
fn unlimited() -> IngestOptions {
    IngestOptions {
        max_tokens: 1_000_000,
        ..IngestOptions::default()
    }
}

fn parse(path: &Path, bytes: &[u8]) -> Document {
    let mut docs = parse_document(path, bytes, &unlimited(), &estimate_tokens).unwrap();
    assert_eq!(docs.len(), 1);
    docs.remove(0)
}

fn report() -> Document {
    let path = report_path();
    parse(&path, &std::fs::read(&path).unwrap())
}

fn initiative<'d>(doc: &'d Document, id_suffix: &str) -> &'d Initiative {
    doc.initiatives()
        .map(|(_, i)| i)
        .find(|i| i.id.ends_with(id_suffix))
        .unwrap_or_else(|| panic!("no initiative {id_suffix}"))
}

#[test]
fn chinese_report_parses_into_title_date_sections_and_subsections() {
    let doc = report();
    assert_eq!(doc.title, "北京民间外交（三）：在京全国性行业协会商会");
    assert_eq!(doc.date.as_deref(), Some("2023-01-29"));
    assert_eq!(doc.source.as_deref(), Some("北京市人民政府外事办公室"));
    assert_eq!(doc.format, "seed");
    // `字号：大 中 小` is page chrome, dropped like `fontSize: big middle small`.
    assert!(doc.metadata.is_empty(), "{:?}", doc.metadata);
    assert_eq!(
        support::outline(&doc),
        [
            (0, None, "", 4, 0),
            (1, Some("一"), "发挥专业优势，积极参与国际规则制定", 2, 0),
            (
                2,
                Some("二"),
                "搭建平台渠道，助力企业和社会组织“走出去”",
                0,
                0
            ),
            (3, Some("（一）"), "推动社会组织走出去", 1, 0),
            (4, Some("（二）"), "服务企业投资海外", 1, 1),
            (5, Some("三"), "贡献中国智慧，讲好新时代中国故事", 1, 1),
        ]
    );
    assert_eq!(
        doc.sections[4].captions,
        ["环保企业服务“一带一路”合作研讨会暨全球环保产业投资机会研讨会"]
    );
    assert_eq!(doc.sections[5].captions, ["CANGO参加C20峰会边会"]);
    let stem = "000_zh_people_to_people_iii";
    assert_eq!(doc.sections[3].initiatives[0].id, format!("{stem}#s3.p1"));
}

#[test]
fn chinese_paragraphs_split_into_sentences_at_full_width_marks() {
    let doc = report();
    let sentences =
        |i: &Initiative| -> Vec<String> { i.sentences.iter().map(|s| s.text.clone()).collect() };
    let note = initiative(&doc, "#s0.p1");
    assert_eq!(
        sentences(note),
        [
            "编者按：春回大地，新年将至。",
            "三年来，北京统筹疫情防控和经济社会发展，对外交往工作坚持不懈，民间外交尤为突出。",
            "在京全国性行业协会商会、市级社会组织、市属高校和企业主动识变应变、以新思路开展工作，取得了显著成效。",
        ]
    );
    // `；` ends a sentence, and so does `！`.
    assert_eq!(initiative(&doc, "#s0.p2").sentences.len(), 2);
    assert!(initiative(&doc, "#s0.p2").sentences[0]
        .text
        .ends_with("务实行动；"));
    assert_eq!(initiative(&doc, "#s0.p3").sentences.len(), 1);
    // A paragraph wrapped over two lines joins without a space; so do the words around a
    // space inside a title.
    let wrapped = initiative(&doc, "#s1.p2");
    assert!(
        wrapped.text.contains("合作机制，深度参与东亚"),
        "{}",
        wrapped.text
    );
    assert!(wrapped.text.contains("信息交换第1部分"), "{}", wrapped.text);
    assert_eq!(wrapped.sentences.len(), 2);
    for (_, init) in doc.initiatives() {
        for s in &init.sentences {
            let (a, b) = s.byte_range;
            assert!(init.text.is_char_boundary(a) && init.text.is_char_boundary(b));
            assert_eq!(&init.text[a..b], s.text);
        }
    }
}

#[test]
fn a_gbk_copy_of_the_report_parses_the_same_and_is_noted() {
    let text = std::fs::read_to_string(report_path()).unwrap();
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000_zh_people_to_people_iii.txt");
    std::fs::write(&path, &gbk).unwrap();
    let out = ingest_paths(&[path], &unlimited(), &estimate_tokens);
    assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    assert!(
        out.notes.iter().any(|n| n.contains("as GB18030/GBK")),
        "{:?}",
        out.notes
    );
    let doc = &out.documents[0];
    let utf8 = report();
    assert_eq!(doc.title, utf8.title);
    assert_eq!(doc.date, utf8.date);
    // Byte ranges of sections count decoded UTF-8, so the GBK copy has the same ones.
    assert_eq!(doc.sections, utf8.sections);
}

#[test]
fn chinese_html_lines_join_without_spaces() {
    let page = "<html><head><title>北京民间外交</title></head><body>\n\
                <h2>一、发挥专业优势</h2>\n\
                <p>中国电力企业联合会\n依托我国电力工业。深度参与\n国际标准制定！</p>\n\
                </body></html>";
    let doc = parse(Path::new("page.html"), page.as_bytes());
    assert_eq!(doc.title, "北京民间外交");
    let section = doc.sections.last().unwrap();
    assert_eq!(
        (section.number.as_deref(), section.heading.as_str()),
        (Some("一"), "发挥专业优势")
    );
    let init = &section.initiatives[0];
    assert_eq!(
        init.text,
        "中国电力企业联合会依托我国电力工业。深度参与国际标准制定！"
    );
    assert_eq!(init.sentences.len(), 2);
    // The same page saved in GBK (as many Chinese sites still serve it) reads the same.
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(page);
    assert!(!unmappable);
    let from_gbk = parse(Path::new("page.html"), &gbk);
    assert_eq!(from_gbk.sections, doc.sections);
}

#[test]
fn entities_of_the_chinese_report_are_found_in_chinese() {
    let doc = report();
    let text: String = doc
        .initiatives()
        .map(|(_, i)| i.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let e = simsum::entities::extract(&text);
    assert_eq!(e.countries, ["CN", "JP", "KR", "NL"]);
    assert_eq!(e.years, [2020, 2021, 2022, 2023]);
    let defs: Vec<(&str, &str)> = e
        .orgs
        .definitions
        .iter()
        .map(|d| (d.acronym.as_str(), d.name.as_str()))
        .collect();
    assert_eq!(
        defs,
        [
            ("AESIEAP", "东亚及西太平洋电力工业协会"),
            ("CAEPI", "中国环境保护产业协会"),
            ("CANGO", "中国国际民间组织合作促进会"),
            ("CEC", "中国电力企业联合会"),
            ("CODA", "中国海外发展协会"),
            ("CTA", "中华商标协会"),
            ("PPAC", "中国专利保护协会"),
            ("WIPO", "世界知识产权组织"),
        ]
    );
    // The acronym is the same tag in English and Chinese reports.
    let tags = simsum::entities::tags(&initiative(&doc, "#s5.p1").text);
    assert!(tags.iter().any(|t| t.kind == "org" && t.value == "CANGO"));
}

/// The report's paragraphs in a BM25 index, keyed by their position.
fn index(doc: &Document) -> (LexicalIndex, Vec<&Initiative>) {
    let inits: Vec<&Initiative> = doc.initiatives().map(|(_, i)| i).collect();
    let ix = LexicalIndex::build(
        inits
            .iter()
            .enumerate()
            .map(|(k, i)| (k as u64, lexical::terms(&i.text))),
    );
    (ix, inits)
}

#[test]
fn bm25_finds_chinese_paragraphs_by_chinese_english_and_mixed_queries() {
    let doc = report();
    let (ix, inits) = index(&doc);
    let top = |q: &str| {
        let hits = ix.search(&lexical::query_terms(q), 3, &|_| true);
        let first = hits.first().unwrap_or_else(|| panic!("no hit for {q}"));
        inits[first.0 as usize]
            .id
            .rsplit('#')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(top("民间组织合作促进会 走出去 平台机制"), "s3.p1");
    assert_eq!(top("电动汽车充电漫游"), "s1.p2");
    assert_eq!(top("CAEPI"), "s4.p1");
    assert_eq!(top("CANGO 金砖国家民间论坛"), "s5.p1");
    assert_eq!(top("WIPO 观察员"), "s1.p1");
}

#[test]
fn why_terms_in_chinese_text_are_phrases_on_character_boundaries() {
    let doc = report();
    let text = &initiative(&doc, "#s5.p1").text;
    let q = lexical::query_terms("CANGO 民间论坛 中国竹园");
    let found: Vec<&str> = lexical::matches(text, &q)
        .into_iter()
        .map(|(r, _)| {
            assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
            &text[r]
        })
        .collect();
    assert!(found.contains(&"CANGO"), "{found:?}");
    assert!(found.contains(&"民间论坛"), "{found:?}");
    assert!(found.contains(&"中国竹园"), "{found:?}");
}

#[cfg(feature = "pdf")]
#[test]
fn chinese_pdfs_from_browsers_read_like_the_text() {
    // The whole report printed by Chromium (Type3 glyphs for CJK) and WeasyPrint (Type0,
    // Identity-H), in one column and in two justified columns (tests/data/pdf/make_html.py):
    // every sentence of the text version, its title, date and numbered headings.
    let text = report();
    let expected: Vec<&str> = text
        .initiatives()
        .flat_map(|(_, i)| i.sentences.iter().map(|s| s.text.as_str()))
        .collect();
    let headings = |d: &Document| -> Vec<(Option<String>, String)> {
        d.sections
            .iter()
            .filter(|s| !s.heading.is_empty())
            .map(|s| (s.number.clone(), s.heading.clone()))
            .collect()
    };
    for producer in ["chromium", "weasyprint"] {
        for cols in ["1col", "2col"] {
            let name = format!("zh-{producer}-{cols}.pdf");
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/pdf")
                .join(&name);
            let pdf = parse(&path, &std::fs::read(&path).unwrap());
            assert_eq!(pdf.title, text.title, "{name}");
            assert_eq!(pdf.date.as_deref(), Some("2023-01-29"), "{name}");
            assert_eq!(headings(&pdf), headings(&text), "{name}");
            let in_pdf: std::collections::HashSet<&str> = pdf
                .initiatives()
                .flat_map(|(_, i)| i.sentences.iter().map(|s| s.text.as_str()))
                .collect();
            let missing: Vec<&&str> = expected.iter().filter(|s| !in_pdf.contains(**s)).collect();
            eprintln!(
                "{name}: {} of {} sentences",
                expected.len() - missing.len(),
                expected.len()
            );
            assert!(missing.is_empty(), "{name}: missing {missing:?}");
        }
    }
}

#[cfg(feature = "pdf")]
#[test]
fn chinese_text_from_a_pdf_with_a_to_unicode_cmap() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/pdf/zh-report.pdf");
    let pdf = parse(&path, &std::fs::read(&path).unwrap());
    assert_eq!(pdf.format, "pdf");
    assert_eq!(pdf.title, "北京民间外交（三）：在京全国性行业协会商会");
    assert_eq!(pdf.date.as_deref(), Some("2023-01-29"));
    let numbers: Vec<&str> = pdf
        .sections
        .iter()
        .filter_map(|s| s.number.as_deref())
        .collect();
    assert_eq!(numbers, ["一", "二", "（一）"]);
    // Every sentence the text version has up to the first subsection's paragraph is in the
    // PDF's, though its lines were broken in the middle of words.
    let in_pdf: std::collections::HashSet<&str> = pdf
        .initiatives()
        .flat_map(|(_, i)| i.sentences.iter().map(|s| s.text.as_str()))
        .collect();
    let text = report();
    let expected: Vec<&str> = text
        .initiatives()
        .filter(|(s, _)| s.ordinal <= 3)
        .flat_map(|(_, i)| i.sentences.iter().map(|s| s.text.as_str()))
        .collect();
    assert_eq!(expected.len(), 14);
    let missing: Vec<&&str> = expected.iter().filter(|s| !in_pdf.contains(**s)).collect();
    assert!(missing.is_empty(), "missing from the PDF: {missing:?}");
}

/// The Chinese side of the committed parallel corpus (`tests/data/parallel/`): (id, text).
fn parallel_chinese() -> Vec<(String, String)> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/parallel/gnu-zh_CN.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let field = |k: &str| v[k].as_str().unwrap().to_string();
            assert!(!field("en").is_empty());
            (field("id"), field("zh"))
        })
        .collect()
}

#[test]
fn each_parallel_text_is_found_by_a_phrase_of_it() {
    let corpus = parallel_chinese();
    assert_eq!(corpus.len(), 300);
    let ix = LexicalIndex::build(
        corpus
            .iter()
            .enumerate()
            .map(|(k, (_, zh))| (k as u64, lexical::terms(zh))),
    );
    // The query: the six Han characters in the middle of the text's longest run of them.
    let mut rr = 0.0;
    let mut asked = 0;
    for (k, (_, zh)) in corpus.iter().enumerate() {
        let runs = zh.split(|c: char| !simsum::text::cjk::is_han(c));
        let longest: Vec<char> = runs
            .max_by_key(|r| r.chars().count())
            .unwrap()
            .chars()
            .collect();
        if longest.len() < 6 {
            continue;
        }
        let at = (longest.len() - 6) / 2;
        let query: String = longest[at..at + 6].iter().collect();
        let terms = lexical::query_terms(&query);
        for (r, _) in lexical::matches(zh, &terms) {
            assert!(zh.is_char_boundary(r.start) && zh.is_char_boundary(r.end));
        }
        asked += 1;
        let hits = ix.search(&terms, 10, &|_| true);
        if let Some(rank) = hits.iter().position(|h| h.0 == k as u64) {
            rr += 1.0 / (rank + 1) as f64;
        }
    }
    let mrr = rr / asked as f64;
    eprintln!("parallel corpus: MRR@10 {mrr:.4} over {asked} phrases");
    assert!(asked >= 280, "{asked}");
    assert!(mrr >= 0.85, "MRR@10 {mrr:.4} over {asked} phrases");
}

/// An index (hash embedder) of the English seeds and the Chinese report together.
fn mixed_index() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (files, idx) = (tmp.path().join("files"), tmp.path().join("idx"));
    std::fs::create_dir(&files).unwrap();
    let seeds = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds");
    for entry in std::fs::read_dir(seeds).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, files.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(report_path(), files.join("000_zh_people_to_people_iii.txt")).unwrap();
    let out = simsum()
        .args(["--model", "hash:64", "--index"])
        .arg(&idx)
        .arg("index")
        .arg(&files)
        .output()
        .unwrap();
    support::assert_success(&out);
    (tmp, idx)
}

#[test]
fn search_over_english_and_chinese_reports_explains_chinese_hits() {
    let (_tmp, idx) = mixed_index();
    let search = |args: &[&str]| {
        json_output(
            simsum()
                .args(["--model", "hash:64", "--index"])
                .arg(&idx)
                .arg("search")
                .args(args)
                .args(["--json", "--mode", "lexical"])
                .output()
                .unwrap(),
        )
    };
    let v = search(&["CANGO 民间组织合作促进会"]);
    let hits = v["results"].as_array().unwrap();
    let docs: Vec<&str> = hits
        .iter()
        .map(|h| h["doc"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(docs[0], "000_zh_people_to_people_iii", "{docs:?}");
    assert!(
        docs.contains(&"000_23f0baf8f5491e38"),
        "the English report's CANGO: {docs:?}"
    );
    for h in hits {
        let text = h["text"].as_str().unwrap();
        for t in h["why"]["terms"].as_array().unwrap() {
            let r = t["byte_range"].as_array().unwrap();
            let (a, b) = (
                r[0].as_u64().unwrap() as usize,
                r[1].as_u64().unwrap() as usize,
            );
            assert!(text.is_char_boundary(a) && text.is_char_boundary(b), "{t}");
            assert_eq!(&text[a..b], t["text"].as_str().unwrap());
        }
    }
    let found: Vec<&str> = hits[0]["why"]["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    assert!(found.contains(&"民间组织合作促进会"), "{found:?}");
    // A country filter in Chinese, on Chinese and English text alike.
    let v = search(&["展示", "--country", "荷兰"]);
    let hits = v["results"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["entities"]["countries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["code"] == "NL")));
}
