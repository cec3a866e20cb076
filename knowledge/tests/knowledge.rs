//! The offline extractor and the agent generator against the fixture site and its answer key.

use domain::KnowledgeCategory;
use domain::conversation::{keywords, knowledge_score};
use domain::site::{ExtractedKnowledge, KnowledgeEntry};
use knowledge::{extract, generate};
use std::collections::HashSet;
use testkit::website::{self, answer_key};

const BASE: &str = "http://bayside.test";

fn extracted() -> ExtractedKnowledge {
    extract(&website::pages(BASE))
}

/// The entry `store::search_knowledge` ranks first for `query` (the same score; ties go to
/// the earlier entry).
fn best_hit<'a>(entries: &'a [KnowledgeEntry], query: &str) -> Option<&'a KnowledgeEntry> {
    let wanted = keywords(query);
    let mut best: Option<(usize, &KnowledgeEntry)> = None;
    for entry in entries {
        let score = knowledge_score(
            &wanted,
            entry.category.as_str(),
            &entry.question,
            &entry.answer,
        );
        if score > 0 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, entry));
        }
    }
    best.map(|(_, e)| e)
}

#[test]
fn every_category_of_the_answer_key_has_an_entry_from_a_real_page() {
    let k = extracted();
    let urls: HashSet<String> = website::pages(BASE).into_iter().map(|p| p.url).collect();
    let mut covered = 0;
    for category in answer_key::categories() {
        let entries: Vec<&KnowledgeEntry> = k
            .entries
            .iter()
            .filter(|e| e.category == category)
            .collect();
        if !entries.is_empty() {
            covered += 1;
        }
        assert!(!entries.is_empty(), "no entry for {category}");
        assert!(
            entries.iter().all(|e| urls.contains(&e.source_url)),
            "{category}"
        );
    }
    println!(
        "category coverage: {covered}/{} categories, {} entries",
        answer_key::categories().len(),
        k.entries.len()
    );
    for category in KnowledgeCategory::ALL {
        let n = k.entries.iter().filter(|e| e.category == *category).count();
        println!("  {category}: {n}");
    }
}

#[test]
fn every_entry_is_a_short_spoken_answer_with_a_question_and_a_source() {
    let k = extracted();
    let mut questions = HashSet::new();
    for e in &k.entries {
        assert!(e.question.ends_with('?'), "{e:?}");
        assert!(e.answer.chars().count() <= 300, "{e:?}");
        assert!(knowledge::text::sentences(&e.answer).len() <= 2, "{e:?}");
        assert!(e.answer.ends_with(['.', '!', '?']), "{e:?}");
        assert!(e.source_url.starts_with(BASE), "{e:?}");
        assert!(
            questions.insert(knowledge::text::question_key(&e.question)),
            "duplicate {e:?}"
        );
    }
}

#[test]
fn the_hours_are_exactly_the_answer_keys() {
    let k = extracted();
    let hours: Vec<(&str, Option<&str>, Option<&str>)> = k
        .hours
        .iter()
        .map(|d| (d.day.as_str(), d.open.as_deref(), d.close.as_deref()))
        .collect();
    assert_eq!(hours, answer_key::HOURS.to_vec());
}

#[test]
fn the_business_facts_match_the_answer_key() {
    let k = extracted();
    assert_eq!(k.business_name.as_deref(), Some(answer_key::BUSINESS_NAME));
    assert_eq!(k.phone.as_deref(), Some(answer_key::MAIN_PHONE));
    assert_eq!(
        k.emergency_phone.as_deref(),
        Some(answer_key::EMERGENCY_PHONE)
    );
    assert_eq!(k.email.as_deref(), Some(answer_key::EMAIL));
    assert_eq!(k.address.as_deref(), Some(answer_key::ADDRESS));
    assert_eq!(k.time_zone.as_deref(), Some(answer_key::TIME_ZONE));
}

#[test]
fn every_price_of_the_answer_key_is_a_pricing_entry() {
    let k = extracted();
    for (service, price) in answer_key::PRICES {
        let found = k.entries.iter().any(|e| {
            e.category == KnowledgeCategory::PricingBilling
                && e.question.to_lowercase().contains(service)
                && e.answer.contains(price)
        });
        assert!(found, "{service} {price}");
    }
}

#[test]
fn the_team_is_in_the_directory_with_roles_departments_and_direct_lines() {
    let k = extracted();
    for (name, role, department, phone) in answer_key::TEAM {
        let c = k.contacts.iter().find(|c| c.name == *name);
        assert!(c.is_some(), "{name}");
        let c = c.cloned().unwrap_or_else(|| unreachable!());
        assert_eq!(
            (
                c.role.as_deref(),
                c.department.as_deref(),
                c.phone.as_deref()
            ),
            (Some(*role), Some(*department), Some(*phone))
        );
    }
    assert_eq!(k.contacts.len(), answer_key::TEAM.len());
}

#[test]
fn a_callers_question_finds_an_entry_with_the_expected_answer() {
    let k = extracted();
    for (question, expected) in answer_key::QUESTIONS {
        let hit = best_hit(&k.entries, question);
        let answer = hit.map(|e| e.answer.as_str()).unwrap_or_default();
        println!("{question} → {answer}");
        assert!(answer.contains(expected), "{question}: {hit:?}");
    }
}

#[test]
fn the_output_does_not_depend_on_page_order() {
    let mut pages = website::pages(BASE);
    let forward = extract(&pages);
    pages.reverse();
    assert_eq!(extract(&pages), forward);
}

#[test]
fn the_generated_agent_greets_by_name_and_knows_the_emergency_line() {
    let k = extracted();
    let agent = generate(&k, None);
    assert_eq!(
        agent.greeting,
        "Thanks for calling Bayside Plumbing & Heating, this is Sam, how can I help?"
    );
    assert!(agent.instructions.contains(answer_key::EMERGENCY_PHONE));
    assert!(agent.instructions.contains("Never invent prices"));
    assert!(agent.instructions.contains("Daniel Okafor"));
    assert_eq!(agent.hours, k.hours);
    assert_eq!(agent.time_zone.as_deref(), Some(answer_key::TIME_ZONE));
    assert_eq!(agent.directory.len(), answer_key::TEAM.len());
    let json = serde_json::to_string(&agent).unwrap_or_default();
    assert!(json.contains("\"greeting\""));
}

#[test]
fn the_fixture_pages_chunk_within_budget() {
    let pages = website::pages(BASE);
    let chunks = knowledge::llm::chunk(&pages, 2_000).unwrap_or_default();
    assert!(chunks.len() > 1);
    for c in &chunks {
        assert!(knowledge::llm::prompt_tokens(&knowledge::llm::prompt(c)) <= 2_000);
    }
    let cited: HashSet<&String> = chunks.iter().flat_map(|c| &c.urls).collect();
    assert_eq!(cited.len(), pages.len());
}

#[test]
#[ignore = "prints every entry, for reading"]
fn print_every_entry() {
    for e in extracted().entries {
        println!(
            "[{}] {} → {}  ({})",
            e.category,
            e.question,
            e.answer,
            e.source_url.trim_start_matches(BASE)
        );
    }
}

/// (status, headers, body) of a plain HTTP/1.1 GET.
async fn get(site: &website::FixtureSite, path: &str) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = site.url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_lowercase(), body.to_owned())
}

#[tokio::test]
async fn the_fixture_site_serves_its_pages_and_its_traps() {
    let site = website::FixtureSite::start().await;
    let (status, _, robots) = get(&site, "/robots.txt").await;
    assert_eq!(status, 200);
    assert!(robots.contains("Disallow: /admin/") && robots.contains("Disallow: /private/"));
    let (_, _, sitemap) = get(&site, "/sitemap.xml").await;
    assert!(sitemap.contains(&format!("{}{}</loc>", site.url(), website::SITEMAP_ONLY)));
    assert!(!sitemap.contains("/admin/") && !sitemap.contains("/private/"));
    let (status, head, _) = get(&site, "/old-hours").await;
    assert_eq!(status, 301);
    assert!(head.contains("location: /hours"));
    assert_eq!(get(&site, "/specials-2019").await.0, 404);
    let (_, head, pdf) = get(&site, "/brochure.pdf").await;
    assert!(head.contains("application/pdf") && pdf.starts_with("%PDF-"));
    let (_, _, home) = get(&site, "/").await;
    assert!(home.contains("(415) 555-0142") && home.contains("Mon–Fri 7:00 AM – 6:00 PM"));
    assert!(home.contains("href=\"/admin/login\"") && home.contains("href=\"/services?ref=home\""));
    let (_, _, services) = get(&site, "/services?ref=home").await;
    assert!(services.contains("<link rel=\"canonical\" href=\"/services\">"));
    let (_, _, promotions) = get(&site, "/promotions").await;
    assert!(promotions.contains("href=\"/specials-2019\""));
    let started = std::time::Instant::now();
    assert_eq!(get(&site, "/gallery").await.0, 200);
    assert!(started.elapsed() >= website::SLOW_PAGE_DELAY);
    assert_eq!(
        site.requests().first().map(String::as_str),
        Some("/robots.txt")
    );
    assert!(site.requests().contains(&"/services?ref=home".to_owned()));
    site.shutdown();
}

#[tokio::test]
async fn every_public_page_is_served_with_the_content_pages_gives() {
    let site = website::FixtureSite::start().await;
    let pages = website::pages(&site.url());
    assert!(pages.len() >= 50, "{} pages", pages.len());
    for page in &pages {
        let (status, _, html) = get(&site, page.path()).await;
        assert_eq!(status, 200, "{}", page.url);
        let h1 = page
            .sections
            .iter()
            .find(|s| s.level == 1)
            .and_then(|s| s.heading.clone());
        let h1 = h1.unwrap_or_default().replace('&', "&amp;");
        assert!(html.contains(&format!("<h1>{h1}</h1>")), "{}", page.url);
        assert_eq!(page.content_hash.len(), 64);
    }
    assert!(
        pages
            .iter()
            .all(|p| !p.url.contains("/admin/") && !p.url.contains("/private/"))
    );
    assert_eq!(
        pages.iter().find(|p| p.path() == "/").map(|p| p.depth),
        Some(0)
    );
    assert!(
        pages.iter().all(|p| p.depth <= 3),
        "every page within three links"
    );
}
