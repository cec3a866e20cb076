//! Question and answer pairs: `<dt>`/`<dd>` definitions, headings ending in "?" followed by
//! paragraphs, and "Q: … A: …" lines (in one paragraph or two).

use domain::site::{Block, Section};

/// A question the site asks and answers itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub question: String,
    pub answer: String,
}

/// "Q: … A: …" in one text, or `None`.
fn inline_qa(text: &str) -> Option<Pair> {
    let rest = text.trim().strip_prefix("Q:")?;
    let (q, a) = rest.split_once("A:")?;
    Some(Pair {
        question: q.trim().to_owned(),
        answer: a.trim().to_owned(),
    })
}

/// Whether a block is part of a question/answer pair (so not generic text).
pub fn is_qa_block(block: &Block) -> bool {
    match block {
        Block::Definition { term, .. } => term.trim_end().ends_with('?'),
        Block::Paragraph(t) | Block::ListItem(t) => {
            let t = t.trim_start();
            t.starts_with("Q:") || t.starts_with("A:")
        }
        Block::TableRow(_) => false,
    }
}

/// The pairs of one section. `faq_page`: every definition counts, question mark or not.
pub fn pairs(section: &Section, faq_page: bool) -> Vec<Pair> {
    let mut out = Vec::new();
    if let Some(h) = section
        .heading
        .as_deref()
        .filter(|h| h.trim_end().ends_with('?'))
    {
        let text: Vec<String> = section
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Paragraph(t) if !is_qa_block(b) => Some(t.clone()),
                _ => None,
            })
            .collect();
        if !text.is_empty() {
            out.push(Pair {
                question: h.trim().to_owned(),
                answer: text.join(" "),
            });
        }
    }
    let mut pending_q: Option<String> = None;
    for block in &section.blocks {
        match block {
            Block::Definition { term, definition }
                if faq_page || term.trim_end().ends_with('?') =>
            {
                out.push(Pair {
                    question: term.trim().to_owned(),
                    answer: definition.trim().to_owned(),
                });
            }
            Block::Paragraph(t) | Block::ListItem(t) => {
                if let Some(pair) = inline_qa(t) {
                    out.push(pair);
                } else if let Some(q) = t.trim().strip_prefix("Q:") {
                    pending_q = Some(q.trim().to_owned());
                } else if let (Some(a), Some(q)) = (t.trim().strip_prefix("A:"), pending_q.take()) {
                    out.push(Pair {
                        question: q,
                        answer: a.trim().to_owned(),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(heading: Option<&str>, blocks: Vec<Block>) -> Section {
        Section {
            heading: heading.map(str::to_owned),
            level: 3,
            trail: Vec::new(),
            blocks,
        }
    }

    fn p(t: &str) -> Block {
        Block::Paragraph(t.to_owned())
    }

    #[test]
    fn definitions_are_pairs() {
        let s = section(
            None,
            vec![Block::Definition {
                term: "Do you work weekends?".into(),
                definition: "Yes, Saturdays.".into(),
            }],
        );
        assert_eq!(
            pairs(&s, false),
            vec![Pair {
                question: "Do you work weekends?".into(),
                answer: "Yes, Saturdays.".into()
            }]
        );
    }

    #[test]
    fn a_question_heading_is_answered_by_its_paragraphs() {
        let s = section(
            Some("Is parking free?"),
            vec![p("Yes."), p("Park by the door.")],
        );
        assert_eq!(pairs(&s, false)[0].answer, "Yes. Park by the door.");
        assert!(pairs(&section(Some("Parking"), vec![p("Yes.")]), false).is_empty());
    }

    #[test]
    fn q_and_a_lines_are_pairs_in_one_or_two_paragraphs() {
        let one = section(
            None,
            vec![p("Q: Do you offer financing? A: Yes, over $1,000.")],
        );
        assert_eq!(pairs(&one, false)[0].question, "Do you offer financing?");
        assert_eq!(pairs(&one, false)[0].answer, "Yes, over $1,000.");
        let two = section(None, vec![p("Q: Are pets OK?"), p("A: Yes, on a leash.")]);
        assert_eq!(pairs(&two, false)[0].answer, "Yes, on a leash.");
    }
}
