//! Which of the 18 categories a page or section is about, from keyword tables.
//!
//! A page's path is read first (its segments, `-` and `_` as spaces), then the section's
//! heading, then the page's title; the first table row with a keyword in that text wins, so the
//! more specific rows come first. Nothing matched is `business_information`.

use domain::KnowledgeCategory as C;
use domain::site::Page;

/// (category, keywords): a keyword matches a whole word or phrase, lower-case.
pub const KEYWORDS: &[(C, &[&str])] = &[
    (
        C::EmergencyContact,
        &["emergency", "24/7", "after hours", "after-hours", "urgent"],
    ),
    (
        C::SupportFaq,
        &[
            "faq",
            "faqs",
            "frequently asked",
            "questions",
            "help",
            "support",
        ],
    ),
    (
        C::CompanyHistory,
        &["history", "our story", "founded", "heritage", "milestones"],
    ),
    (
        C::LegalCompliance,
        &[
            "licensing",
            "license",
            "licensed",
            "insurance",
            "compliance",
            "legal",
            "terms of service",
            "permits",
        ],
    ),
    (
        C::Policies,
        &[
            "policies",
            "policy",
            "warranty",
            "guarantee",
            "cancellation",
            "payment terms",
            "privacy",
            "returns",
            "refund",
        ],
    ),
    (
        C::TechnicalSpecs,
        &[
            "specs",
            "specifications",
            "technical",
            "models",
            "datasheet",
        ],
    ),
    (
        C::InventoryStock,
        &["inventory", "in stock", "stock", "availability"],
    ),
    (
        C::PricingBilling,
        &[
            "pricing", "prices", "price", "rates", "fees", "cost", "billing",
        ],
    ),
    (
        C::MarketingPromotions,
        &[
            "promotions",
            "promotion",
            "coupons",
            "coupon",
            "offers",
            "specials",
            "deals",
            "rebates",
            "discounts",
        ],
    ),
    (
        C::Partnerships,
        &[
            "partners",
            "partnerships",
            "brands",
            "affiliations",
            "suppliers",
        ],
    ),
    (
        C::QualityStandards,
        &[
            "certifications",
            "certified",
            "quality",
            "standards",
            "accreditation",
        ],
    ),
    (
        C::FeedbackReviews,
        &["reviews", "testimonials", "feedback", "ratings"],
    ),
    (
        C::TrainingEducation,
        &[
            "training",
            "apprenticeship",
            "careers",
            "jobs",
            "education",
            "workshops",
            "courses",
        ],
    ),
    (
        C::EventsNews,
        &["blog", "news", "events", "press", "announcements"],
    ),
    (
        C::ProcessesProcedures,
        &[
            "how it works",
            "process",
            "what to expect",
            "step by step",
            "procedures",
        ],
    ),
    (
        C::CustomBusinessLogic,
        &["booking rules", "booking", "scheduling rules", "rules"],
    ),
    (
        C::BusinessInformation,
        &[
            "service areas",
            "service area",
            "areas we serve",
            "locations",
        ],
    ),
    (
        C::ProductsServices,
        &["services", "service", "products", "what we do", "solutions"],
    ),
    (
        C::BusinessInformation,
        &[
            "about",
            "contact",
            "hours",
            "location",
            "service areas",
            "team",
            "directions",
        ],
    ),
];

/// Lower-case words of `text` separated by single spaces, with a space at each end so a
/// keyword matches whole words only.
fn padded_words(text: &str) -> String {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '/' || c == '-'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    format!(" {} ", words.join(" "))
}

/// The first category whose keyword is in `text`.
pub fn from_text(text: &str) -> Option<C> {
    let padded = padded_words(text);
    let spaced = padded.replace('-', " ");
    KEYWORDS.iter().find_map(|(category, words)| {
        words
            .iter()
            .any(|w| padded.contains(&format!(" {w} ")) || spaced.contains(&format!(" {w} ")))
            .then_some(*category)
    })
}

/// The page's category from its path, `None` for the home page and unknown paths.
pub fn of_path(page: &Page) -> Option<C> {
    let path = page.path().trim_matches('/').replace('/', " ");
    from_text(&path)
}

/// A section's category: its page's path, else its heading, else the page title.
pub fn of_section(page: &Page, heading: Option<&str>) -> C {
    of_path(page)
        .or_else(|| heading.and_then(from_text))
        .or_else(|| from_text(&page.title))
        .unwrap_or(C::BusinessInformation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(path: &str) -> Page {
        Page {
            url: format!("http://x.test{path}"),
            title: String::new(),
            depth: 1,
            sections: Vec::new(),
            content_hash: String::new(),
            links: Vec::new(),
        }
    }

    #[test]
    fn paths_are_read_before_headings() {
        assert_eq!(of_path(&page("/policies/warranty")), Some(C::Policies));
        assert_eq!(
            of_path(&page("/water-heaters/models")),
            Some(C::TechnicalSpecs)
        );
        assert_eq!(
            of_path(&page("/careers/apprenticeship")),
            Some(C::TrainingEducation)
        );
        assert_eq!(
            of_path(&page("/booking-rules")),
            Some(C::CustomBusinessLogic)
        );
        assert_eq!(
            of_path(&page("/how-it-works")),
            Some(C::ProcessesProcedures)
        );
        assert_eq!(of_path(&page("/")), None);
        assert_eq!(
            of_path(&page("/service-areas/brisbane")),
            Some(C::BusinessInformation)
        );
        assert_eq!(
            of_path(&page("/services/drain-cleaning")),
            Some(C::ProductsServices)
        );
        assert_eq!(
            of_section(&page("/"), Some("Plumbing emergency?")),
            C::EmergencyContact
        );
        assert_eq!(
            of_section(&page("/"), Some("Why us")),
            C::BusinessInformation
        );
    }

    #[test]
    fn keywords_match_whole_words_only() {
        assert_eq!(from_text("Restocking"), None);
        assert_eq!(from_text("Parts in stock"), Some(C::InventoryStock));
    }
}
