//! What the fixture site says, written by hand: what a good extractor finds.

use domain::KnowledgeCategory;

pub const BUSINESS_NAME: &str = "Bayside Plumbing & Heating";
pub const MAIN_PHONE: &str = "+14155550142";
pub const EMERGENCY_PHONE: &str = "+14155550199";
pub const EMAIL: &str = "office@baysideplumbingsf.com";
pub const ADDRESS: &str = "1200 Harrison Street, Suite 4, San Francisco, CA 94103";
pub const TIME_ZONE: &str = "America/Los_Angeles";

/// The site covers all 18 categories (see the page each is on).
pub fn categories() -> Vec<KnowledgeCategory> {
    KnowledgeCategory::ALL.to_vec()
}

/// The page that covers each category best.
pub const CATEGORY_PAGES: &[(&str, &str)] = &[
    ("business_information", "/contact"),
    ("products_services", "/services"),
    ("support_faq", "/faq"),
    ("company_history", "/about/history"),
    ("policies", "/policies/warranty"),
    ("processes_procedures", "/how-it-works"),
    ("events_news", "/blog"),
    ("technical_specs", "/water-heaters/models"),
    ("pricing_billing", "/pricing"),
    ("inventory_stock", "/inventory"),
    ("legal_compliance", "/licensing"),
    ("partnerships", "/partners"),
    ("marketing_promotions", "/promotions"),
    ("training_education", "/careers/apprenticeship"),
    ("quality_standards", "/certifications"),
    ("feedback_reviews", "/reviews"),
    ("emergency_contact", "/emergency"),
    ("custom_business_logic", "/booking-rules"),
];

/// (day, open, close), Monday first, `HH:MM` 24-hour; `None` when closed.
pub const HOURS: [(&str, Option<&str>, Option<&str>); 7] = [
    ("mon", Some("07:00"), Some("18:00")),
    ("tue", Some("07:00"), Some("18:00")),
    ("wed", Some("07:00"), Some("18:00")),
    ("thu", Some("07:00"), Some("18:00")),
    ("fri", Some("07:00"), Some("18:00")),
    ("sat", Some("08:00"), Some("14:00")),
    ("sun", None, None),
];

/// (service as a caller names it, price as the site writes it).
pub const PRICES: &[(&str, &str)] = &[
    ("drain cleaning", "$149"),
    ("water heater installation", "$1,850"),
    ("tankless water heater installation", "$3,400"),
    ("sewer camera inspection", "$295"),
    ("leak detection", "$275"),
    ("boiler service", "$229"),
    ("trenchless sewer replacement", "$8,500"),
];

/// (name, role, department, direct line E.164).
pub const TEAM: &[(&str, &str, &str, &str)] = &[
    (
        "Maria Moretti",
        "Owner and General Manager",
        "Management",
        "+14155550150",
    ),
    (
        "Daniel Okafor",
        "Service Manager",
        "Service",
        "+14155550151",
    ),
    (
        "Priya Raman",
        "Billing Coordinator",
        "Billing",
        "+14155550152",
    ),
    (
        "Luis Hernandez",
        "Master Plumber",
        "Plumbing",
        "+14155550153",
    ),
    (
        "Grace Chen",
        "Heating Technician",
        "Heating",
        "+14155550154",
    ),
    (
        "Tom Becker",
        "Water Heater Specialist",
        "Plumbing",
        "+14155550155",
    ),
    (
        "Aisha Johnson",
        "Apprenticeship Coordinator",
        "Training",
        "+14155550156",
    ),
];

/// (what a caller asks, a substring the answer must contain).
pub const QUESTIONS: &[(&str, &str)] = &[
    ("What are your opening hours?", "7"),
    ("How much is drain cleaning?", "$149"),
    (
        "How much does a standard water heater installation cost?",
        "$1,850",
    ),
    ("Do you have an emergency line?", "555-0199"),
    ("Where are you located?", "Harrison Street"),
    ("Are you licensed?", "1048213"),
    ("Do you offer a warranty?", "one-year"),
    ("Can I book a same-day appointment?", "2 PM"),
    ("What forms of payment do you accept?", "Visa"),
    ("Do you have water heaters in stock?", "Rheem"),
];
