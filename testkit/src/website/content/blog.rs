//! News and events: the blog index and its posts.

use crate::website::model::SitePage;

/// (slug, title, date, first paragraph, second paragraph)
const POSTS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "winter-pipe-tips",
        "Five Ways to Protect Your Pipes This Winter",
        "December 2, 2024",
        "Cold snaps are rare in San Francisco, but pipes in crawl spaces can still freeze. Insulate exposed pipes and know where your main shut-off valve is.",
        "Leave a trickle running on the coldest nights and open cabinet doors under sinks on outside walls.",
    ),
    (
        "open-house-2025",
        "Join Our Shop Open House on March 15",
        "February 10, 2025",
        "We are opening our Harrison Street shop to the public on Saturday, March 15 from 10 AM to 1 PM. Meet our technicians and see a tankless water heater up close.",
        "Kids can try the pipe-fitting challenge and everyone gets a free leak-detection dye kit.",
    ),
    (
        "heat-pump-water-heaters",
        "Are Heat Pump Water Heaters Worth It?",
        "January 20, 2025",
        "A heat pump water heater uses about a third of the energy of a gas tank. With the BayREN rebate, many homeowners pay less than for a new gas heater.",
        "They need a space of at least 700 cubic feet, so a garage or basement works best.",
    ),
    (
        "apprentice-class-2024",
        "Our 2024 Apprentice Class Graduates",
        "November 8, 2024",
        "Four apprentices completed our four-year program this fall and are now journeyman plumbers. Congratulations to the class of 2024.",
        "Applications for next year's class open in January.",
    ),
    (
        "new-trucks",
        "Three New Service Trucks on the Road",
        "October 1, 2024",
        "We added three fully stocked service trucks, so more jobs can be finished on the first visit.",
        "Each truck carries over 400 common parts and a backup water heater.",
    ),
    (
        "sewer-lateral-ordinance",
        "What the Sewer Lateral Ordinance Means for Sellers",
        "September 12, 2024",
        "Some Peninsula cities require a sewer lateral inspection before a home is sold. A camera inspection shows whether your lateral passes.",
        "Ask us for a written report you can give to buyers.",
    ),
    (
        "chamber-award",
        "Bayside Named Small Business of the Year",
        "August 5, 2024",
        "The San Francisco Chamber of Commerce named Bayside Plumbing & Heating its small business of the year for trades.",
        "Thank you to our customers and our team for 37 years of support.",
    ),
    (
        "water-saving-toilets",
        "Save Water With a New Toilet",
        "July 1, 2024",
        "Toilets made before 1994 use up to seven gallons per flush. A new high-efficiency toilet uses 1.28 gallons.",
        "The SFPUC offers a rebate on qualifying toilets.",
    ),
];

pub(crate) fn pages() -> Vec<SitePage> {
    let mut index = SitePage::new("/blog", "News and Events")
        .p("Tips, company news and upcoming events from Bayside Plumbing & Heating.");
    for (slug, title, ..) in POSTS {
        index = index.link(title, &format!("/blog/{slug}"));
    }
    let mut pages = vec![index];
    pages.extend(POSTS.iter().map(|(slug, title, date, first, second)| {
        SitePage::new(&format!("/blog/{slug}"), title)
            .p(&format!("Posted {date}."))
            .p(first)
            .p(second)
    }));
    pages
}
