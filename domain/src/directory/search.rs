//! Finding a person or department from what a caller said, as speech recognition heard it.
//!
//! The query is normalised (lower case, no punctuation, no titles, no filler such as "someone
//! in" or "please"), then scored against each employee's name and roles and each department's
//! name and description. Tokens compare by Jaro-Winkler similarity, so "Smyth" still finds
//! Smith; short tokens (three letters or fewer) must match exactly, or "Ben" would find "Bea".

use super::{Department, Directory, DirectoryMatch, Employee, EmployeeStatus, TargetKind};

/// Two tokens are the same word at this Jaro-Winkler similarity or above.
const TOKEN_SIMILARITY: f64 = 0.88;
/// A match below this score is a guess, not an answer.
const CONFIDENT: f32 = 0.7;

const TITLES: &[&str] = &[
    "dr",
    "doctor",
    "mr",
    "mrs",
    "ms",
    "miss",
    "prof",
    "professor",
];

/// Words that say how the caller asks, not whom they want.
const FILLER: &[&str] = &[
    "a",
    "an",
    "the",
    "someone",
    "somebody",
    "anyone",
    "anybody",
    "in",
    "from",
    "of",
    "at",
    "to",
    "with",
    "for",
    "please",
    "can",
    "could",
    "may",
    "i",
    "id",
    "like",
    "want",
    "need",
    "speak",
    "talk",
    "reach",
    "get",
    "me",
    "put",
    "through",
    "connect",
    "transfer",
    "is",
    "there",
    "your",
    "you",
    "hi",
    "hello",
    "um",
    "uh",
    "and",
    "or",
    "just",
    "would",
    "be",
    "available",
    "thanks",
];

/// Words that name a kind of unit, not a unit: "the billing department" is "billing".
const UNIT_WORDS: &[&str] = &["department", "dept", "team", "office", "group", "division"];

/// The words of `text`: lower case, apostrophes dropped ("O'Brien" is "obrien"), other
/// punctuation a separator, titles removed.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['\'', '’'], "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !TITLES.contains(w))
        .map(str::to_owned)
        .collect()
}

/// The words of a query that may name something: `words` minus filler.
fn meaningful(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !FILLER.contains(&w.as_str()))
        .collect()
}

fn without_unit_words(words: &[String]) -> Vec<String> {
    words
        .iter()
        .filter(|w| !UNIT_WORDS.contains(&w.as_str()))
        .cloned()
        .collect()
}

fn similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    if a.chars().count() <= 3 || b.chars().count() <= 3 {
        return 0.0;
    }
    strsim::jaro_winkler(a, b)
}

/// How `wanted` meets `target`'s words: the mean best similarity of the wanted words
/// (unmatched ones count 0), and the share of the target's words they cover.
fn overlap(wanted: &[String], target: &[String]) -> (f32, f32) {
    if wanted.is_empty() || target.is_empty() {
        return (0.0, 0.0);
    }
    let mut covered = vec![false; target.len()];
    let mut total = 0.0;
    for w in wanted {
        let best = target
            .iter()
            .enumerate()
            .map(|(i, t)| (i, similarity(w, t)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .filter(|(_, s)| *s >= TOKEN_SIMILARITY);
        if let Some((i, s)) = best {
            covered[i] = true;
            total += s;
        }
    }
    let coverage = covered.iter().filter(|c| **c).count() as f64 / target.len() as f64;
    ((total / wanted.len() as f64) as f32, coverage as f32)
}

/// How well `wanted` (every word should be explained) names `target`: 1.0 is all of it,
/// exactly; a last name alone is 0.9.
fn fit(wanted: &[String], target: &[String]) -> f32 {
    let (explained, coverage) = overlap(wanted, target);
    explained * (0.8 + 0.2 * coverage)
}

/// Roles say what someone does: "the manager" fits "office manager" a little less than "the
/// office manager" does.
fn role_fit(query: &[String], roles: &[String]) -> f32 {
    roles
        .iter()
        .map(|role| 0.85 * fit(query, &words(role)))
        .fold(0.0, f32::max)
}

fn score_employee(e: &Employee, query: &[String], bare: &[String]) -> f32 {
    let by_name = fit(bare, &words(&e.name));
    by_name.max(role_fit(query, &e.roles))
}

fn score_department(d: &Department, bare: &[String]) -> f32 {
    let name = without_unit_words(&words(&d.name));
    let by_name = fit(bare, &name);
    let description: Vec<String> = d.description.as_deref().map(meaningful).unwrap_or_default();
    // A description is looser evidence than a name: "accounts" when it mentions accounts.
    let by_description = 0.8 * overlap(bare, &description).0;
    by_name.max(by_description)
}

pub(super) fn find(directory: &Directory, query: &str) -> Vec<DirectoryMatch> {
    let query = meaningful(query);
    let bare = without_unit_words(&query);
    if bare.is_empty() {
        return Vec::new();
    }
    let department_name = |id: Option<uuid::Uuid>| {
        id.and_then(|id| directory.department(id))
            .map(|d| d.name.clone())
    };
    let employees = directory
        .employees
        .iter()
        .filter(|e| e.status != EmployeeStatus::Inactive)
        .map(|e| {
            let score = score_employee(e, &query, &bare);
            (
                0,
                DirectoryMatch {
                    kind: TargetKind::Employee,
                    id: e.id,
                    name: e.name.clone(),
                    department: department_name(e.department_id),
                    roles: e.roles.clone(),
                    score,
                },
            )
        });
    let departments = directory.departments.iter().map(|d| {
        (
            d.routing_priority,
            DirectoryMatch {
                kind: TargetKind::Department,
                id: d.id,
                name: d.name.clone(),
                department: None,
                roles: Vec::new(),
                score: score_department(d, &bare),
            },
        )
    });
    let mut matches: Vec<(i32, DirectoryMatch)> = employees
        .chain(departments)
        .filter(|(_, m)| m.score >= CONFIDENT)
        .collect();
    matches.sort_by(|(pa, a), (pb, b)| {
        b.score
            .total_cmp(&a.score)
            .then(pb.cmp(pa))
            .then_with(|| a.name.cmp(&b.name))
    });
    matches.into_iter().map(|(_, m)| m).collect()
}

#[cfg(test)]
mod tests {
    use super::{meaningful, words};

    #[test]
    fn titles_punctuation_and_filler_go() {
        assert_eq!(words("Dr. O'Brien-Smith"), ["obrien", "smith"]);
        assert_eq!(
            meaningful("Could I speak to someone in Billing, please?"),
            ["billing"]
        );
    }
}
