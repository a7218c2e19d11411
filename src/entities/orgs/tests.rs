//! Each rule of [`super`] with the seed reports' own sentences.

use super::*;

fn defs(text: &str) -> Vec<(String, String)> {
    find_orgs(text)
        .definitions
        .into_iter()
        .map(|d| (d.acronym, d.name))
        .collect()
}

fn pair(a: &str, n: &str) -> (String, String) {
    (a.to_string(), n.to_string())
}

#[test]
fn acronyms_after_long_names_are_definitions() {
    assert_eq!(
        defs("For example, Beijing Construction Engineering Group (BCEG) has trained"),
        [pair("BCEG", "Beijing Construction Engineering Group")]
    );
    assert_eq!(
        defs("To this end, the China Association for NGO Cooperation (CANGO) launched"),
        [pair("CANGO", "China Association for NGO Cooperation")]
    );
    assert_eq!(
        defs("The China Electricity Council (CEC), taking advantage"),
        [pair("CEC", "China Electricity Council")]
    );
    assert_eq!(
        defs("status at the World Intellectual Property Organization (WIPO) in 2022"),
        [pair("WIPO", "World Intellectual Property Organization")]
    );
    assert_eq!(
        defs("UK and Mauritius branches of Beijing Construction Engineering Group International (BCEGI) have"),
        [pair("BCEGI", "Beijing Construction Engineering Group International")]
    );
}

#[test]
fn company_names_keep_their_suffixes_and_commas() {
    assert_eq!(
        defs("Subsidiaries of Beijing Sifang Automation Co., Ltd. (SIFANG) in India"),
        [pair("SIFANG", "Beijing Sifang Automation Co., Ltd.")]
    );
    assert_eq!(
        defs("Capital Group, BAIC Group, Beijing Enterprises Group Company Limited (BG), and"),
        [pair("BG", "Beijing Enterprises Group Company Limited")]
    );
    assert_eq!(
        defs("StarTimes, Beijing GeoEnviron Engineering & Technology, Inc (BGE), and"),
        [pair(
            "BGE",
            "Beijing GeoEnviron Engineering & Technology, Inc"
        )]
    );
    assert_eq!(
        defs("including Beijing Capital Development Holding (Group) Co., Ltd. (BCDH), Capital"),
        [pair(
            "BCDH",
            "Beijing Capital Development Holding (Group) Co., Ltd."
        )]
    );
}

#[test]
fn short_names_in_parentheses_are_definitions() {
    assert_eq!(
        defs("Watchdata, Jangho Group Company Limited (Jangho), and"),
        [pair("Jangho", "Jangho Group Company Limited")]
    );
    assert_eq!(
        defs("around the world, Jiang Tai Insurance Brokers Co., Ltd. (Jiang Tai) has"),
        [pair("Jiang Tai", "Jiang Tai Insurance Brokers Co., Ltd.")]
    );
}

#[test]
fn things_that_are_not_organisations_are_not_defined() {
    for text in [
        "Phase II of the Advanced Distribution Management System (ADMS) project",
        "the Belt and Road Initiative (BRI)",
        "traditional Chinese medicine (TCM) and healthcare",
        "Beijing's People-to-People Diplomacy (III): National",
        "Task Force of Malaysia (Covid-19) in issuing",
        "a sentence (with an aside) here",
        "unbalanced (BCEG",
    ] {
        assert!(defs(text).is_empty(), "{text}");
    }
}

#[test]
fn acronym_words_are_exact() {
    let m = find_orgs("BCEGI UK Sponsors and BCEG's workers; NGOs and CANGO.");
    assert_eq!(m.acronyms, ["BCEG", "BCEGI", "CANGO", "UK"]);
    assert!(!acronym_like("IV") && !acronym_like("Jangho") && !acronym_like("B"));
}

#[test]
fn names_are_found_without_their_acronym() {
    let m = find_orgs("Designed by China Flower Association, the garden won.");
    assert!(
        m.names.contains(&"china flower association".to_string()),
        "{:?}",
        m.names
    );
    assert!(m.names.contains(&"flower association".to_string()));
    let m = find_orgs("Beijing Construction Engineering Group International has grown.");
    assert!(!m
        .names
        .contains(&name_key("Beijing Construction Engineering Group")));
    let m = find_orgs("The DAJIUXING platform sponsored by Jiang Tai is available");
    assert!(m.names.contains(&"jiang tai".to_string()), "{:?}", m.names);
}

#[test]
fn one_acronym_and_name_is_one_organisation_across_documents() {
    let a = find_orgs("Beijing Construction Engineering Group (BCEG) has trained");
    let b = find_orgs("the Beijing Construction Engineering Group (BCEG) in Angola");
    let c = find_orgs("Beijing Construction Engineering Group International (BCEGI)");
    let cat = Catalogue::new(
        [a.definitions, b.definitions, c.definitions]
            .into_iter()
            .flatten(),
    );
    assert_eq!(cat.orgs.len(), 2);
    let bceg = cat.resolve("BCEG");
    assert_eq!(bceg.len(), 1);
    assert_eq!(bceg[0].name, "Beijing Construction Engineering Group");
    assert_eq!(cat.resolve("bceg").len(), 1);
    assert_eq!(
        cat.resolve("beijing construction engineering group")[0].acronym,
        "BCEG"
    );
    assert_eq!(cat.resolve("BCEGI")[0].acronym, "BCEGI");
    assert!(cat.resolve("CANGO").is_empty());
    assert_eq!(
        cat.suggest("BCGE").first().map(String::as_str),
        Some("BCEG")
    );
}

#[test]
fn chinese_names_with_their_english_acronyms() {
    assert_eq!(
        defs("2021年，中国国际民间组织合作促进会（CANGO）启动了项目。"),
        [pair("CANGO", "中国国际民间组织合作促进会")]
    );
    assert_eq!(
        defs("深度参与东亚及西太平洋电力工业协会（AESIEAP）的机制建设，获得世界知识产权组织（WIPO）观察员地位"),
        [
            pair("AESIEAP", "东亚及西太平洋电力工业协会"),
            pair("WIPO", "世界知识产权组织")
        ]
    );
    // Without a place in it, the words that lead into the name come off.
    assert_eq!(
        defs("此外，与可持续发展促进会（SDPA）合作。在北京举办的绿色发展基金会（GDF）"),
        [
            pair("GDF", "绿色发展基金会"),
            pair("SDPA", "可持续发展促进会")
        ]
    );
    assert_eq!(
        defs("2022年与中国海外发展协会(CODA)共同举办研讨会，由中国电力企业联合会（CEC）主导。"),
        [
            pair("CEC", "中国电力企业联合会"),
            pair("CODA", "中国海外发展协会")
        ]
    );
    // Not organisations: a plan, a short name in brackets, an English name.
    assert!(defs("推进“一带一路”倡议（BRI）").is_empty());
    assert!(defs("中国花卉协会（花协）").is_empty());
    let m = find_orgs("CANGO参加了C20峰会，中国国际民间组织合作促进会（CANGO）分享了经验。");
    assert_eq!(m.acronyms, ["CANGO"]);
    assert!(m.names.contains(&"中国国际民间组织合作促进会".to_string()));
}
