use super::*;
use domain::site::{Block, Section};

fn page(url: &str, sections: usize, blocks: usize, words: usize) -> Page {
    let section = |i: usize| Section {
        heading: Some(format!("Heading {i}")),
        level: 2,
        trail: Vec::new(),
        blocks: (0..blocks)
            .map(|b| Block::Paragraph(format!("Block {b}. {}", "word ".repeat(words))))
            .collect(),
    };
    Page {
        url: url.to_owned(),
        title: "A page".to_owned(),
        depth: 1,
        sections: (0..sections).map(section).collect(),
        content_hash: String::new(),
        links: Vec::new(),
    }
}

fn chunk_of(urls: &[&str]) -> Chunk {
    Chunk {
        urls: urls.iter().map(|u| (*u).to_owned()).collect(),
        text: String::new(),
    }
}

#[test]
fn no_chunk_prompt_exceeds_the_budget_and_nothing_is_lost() {
    let pages = vec![
        page("http://x/a", 2, 2, 10),
        page("http://x/big", 12, 6, 40),
        page("http://x/huge-block", 1, 1, 2_000),
    ];
    for budget in [tokens(INSTRUCTIONS) + 200, 1_000, 4_000, 100_000] {
        let chunks = chunk(&pages, budget).unwrap_or_default();
        assert!(!chunks.is_empty(), "budget {budget}");
        for c in &chunks {
            assert!(prompt_tokens(&prompt(c)) <= budget, "budget {budget}");
        }
        let all: String = chunks.iter().map(|c| c.text.clone()).collect();
        assert_eq!(all.matches("Block 5.").count(), 12, "budget {budget}");
        assert!(
            chunks
                .iter()
                .all(|c| c.urls.iter().all(|u| c.text.contains(u.as_str())))
        );
    }
    assert_eq!(chunk(&pages, 100_000).map(|c| c.len()), Ok(1));
}

#[test]
fn a_budget_below_the_instructions_is_an_error() {
    let pages = vec![page("http://x/a", 1, 1, 1)];
    assert_eq!(
        chunk(&pages, 10),
        Err(LlmExtractError::BudgetTooSmall { budget: 10 })
    );
}

#[test]
fn a_valid_response_becomes_entries() {
    let text = r#"```json
{"entries": [{"category": "pricing_billing", "question": "How much is drain cleaning?", "answer": "Drain cleaning costs from $149.", "source_url": "http://x/a"}]}
```"#;
    let entries = parse_response(text, &chunk_of(&["http://x/a"])).unwrap_or_default();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].category,
        domain::KnowledgeCategory::PricingBilling
    );
}

#[test]
fn the_schema_rejects_wrong_categories_missing_fields_foreign_sources_and_non_json() {
    let c = chunk_of(&["http://x/a"]);
    let one = |category: &str, url: &str| {
        format!(
            r#"{{"entries": [{{"category": "{category}", "question": "Q?", "answer": "A.", "source_url": "{url}"}}]}}"#
        )
    };
    assert!(matches!(
        parse_response(&one("weather", "http://x/a"), &c),
        Err(LlmExtractError::Schema { .. })
    ));
    assert!(matches!(
        parse_response(&one("policies", "http://evil/"), &c),
        Err(LlmExtractError::ForeignSource { index: 0, .. })
    ));
    let missing =
        r#"{"entries": [{"category": "policies", "question": "Q?", "source_url": "http://x/a"}]}"#;
    assert!(matches!(
        parse_response(missing, &c),
        Err(LlmExtractError::Schema { .. })
    ));
    let extra = r#"{"entries": [], "notes": "hi"}"#;
    assert!(matches!(
        parse_response(extra, &c),
        Err(LlmExtractError::Schema { .. })
    ));
    let empty = r#"{"entries": [{"category": "policies", "question": " ", "answer": "A.", "source_url": "http://x/a"}]}"#;
    assert!(matches!(
        parse_response(empty, &c),
        Err(LlmExtractError::Schema { .. })
    ));
    assert!(matches!(
        parse_response("Sure! Here are the entries", &c),
        Err(LlmExtractError::NotJson(_))
    ));
    assert_eq!(parse_response(r#"{"entries": []}"#, &c), Ok(Vec::new()));
}

#[test]
fn the_schema_lists_the_eighteen_categories_and_requires_every_field() {
    let schema = response_schema();
    let item = &schema["properties"]["entries"]["items"];
    assert_eq!(
        item["properties"]["category"]["enum"]
            .as_array()
            .map(Vec::len),
        Some(18)
    );
    assert_eq!(item["required"].as_array().map(Vec::len), Some(4));
    assert_eq!(item["additionalProperties"], serde_json::Value::Bool(false));
}
