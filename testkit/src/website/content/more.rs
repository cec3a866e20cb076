//! Everything else a caller may ask about: FAQ, policies, licensing, quality, partners,
//! promotions, reviews, careers and training, and the cities served.

use crate::website::model::{Reach, SitePage};

pub(crate) fn pages() -> Vec<SitePage> {
    let mut pages = vec![faq(), policies()];
    pages.extend(policy_pages());
    pages.extend([
        licensing(),
        certifications(),
        partners(),
        promotions(),
        rebates(),
        reviews(),
        careers(),
        apprenticeship(),
        areas(),
    ]);
    pages.extend(AREAS.iter().map(|a| area(*a)));
    pages
}

fn faq() -> SitePage {
    SitePage::new("/faq", "Frequently Asked Questions")
        .def("Do you charge for estimates?", "Estimates for planned work are free. A diagnostic visit for a repair is $89, waived if you go ahead with the repair.")
        .def("Are you licensed and insured?", "Yes. We hold California contractor license C-36 #1048213 and carry $2 million in liability insurance.")
        .def("How quickly can you come out?", "Most calls booked before 2 PM get a technician the same day. Emergencies are answered around the clock.")
        .def("Do you work on weekends?", "Our office is open Saturday from 8 AM to 2 PM. The emergency line answers on Sundays and holidays.")
        .def("What forms of payment do you accept?", "We accept Visa, Mastercard, American Express, checks and Zelle. Financing is available for jobs over $1,000.")
        .def("Do you offer a warranty?", "Yes. All labor carries a one-year warranty, and parts carry the manufacturer's warranty.")
        .def("Do I need to be home during the appointment?", "Someone over 18 must be home when the technician arrives. You can leave once the price is approved if a key is left with us.")
        .def("Do you serve my neighborhood?", "We cover all of San Francisco, Daly City, South San Francisco, Brisbane, Pacifica and Millbrae.")
        .def("Can you help with a gas leak?", "If you smell gas, leave the house and call PG&E first. Then call our emergency line at (415) 555-0199 and we will repair the line.")
}

fn policies() -> SitePage {
    SitePage::new("/policies", "Our Policies")
        .p("The fine print, in plain words.")
        .link("Warranty", "/policies/warranty")
        .link("Cancellation policy", "/policies/cancellation")
        .link("Payment terms", "/policies/payment")
        .link("Privacy policy", "/policies/privacy")
}

fn policy_pages() -> Vec<SitePage> {
    vec![
        SitePage::new("/policies/warranty", "Warranty")
            .p("All labor carries a one-year warranty from the day of the job. Parts carry the manufacturer's warranty, passed on to you in full.")
            .h3("What does the warranty not cover?")
            .p("It does not cover damage from misuse, freezing or work done by others after our visit."),
        SitePage::new("/policies/cancellation", "Cancellation Policy")
            .p("You can cancel or reschedule free of charge up to 24 hours before your arrival window. Later cancellations are charged a $50 fee."),
        SitePage::new("/policies/payment", "Payment Terms")
            .p("Payment is due when the work is finished. We accept Visa, Mastercard, American Express, checks and Zelle.")
            .p("Q: Do you offer financing? A: Yes, financing through GreenSky is available for jobs over $1,000."),
        SitePage::new("/policies/privacy", "Privacy Policy")
            .p("We use your name, address and phone number only to schedule and complete your job. We never sell your information."),
    ]
}

fn licensing() -> SitePage {
    SitePage::new("/licensing", "Licensing and Insurance")
        .p("Bayside Plumbing & Heating holds California contractor license C-36 #1048213, issued by the Contractors State License Board.")
        .h2("Insurance and bonding")
        .p("We carry $2 million in general liability insurance and workers' compensation for every employee. We are bonded for $25,000.")
        .h2("Permits")
        .p("We pull city permits for water heaters, sewer laterals and gas lines, as the San Francisco building code requires.")
}

fn certifications() -> SitePage {
    SitePage::new("/certifications", "Certifications and Quality Standards")
        .p("Every job is checked against our 20-point quality checklist before the technician leaves.")
        .h2("Certifications")
        .li("Rinnai Certified Installer")
        .li("Bradford White Certified Plumber")
        .li("NATE-certified heating technicians")
        .li("EPA Lead-Safe Certified Firm")
        .h2("Quality checks")
        .p("A supervisor reviews photos of every finished job. We call every customer within a week to make sure the work holds up.")
}

fn partners() -> SitePage {
    SitePage::new("/partners", "Partners and Brands")
        .p("We work with manufacturers and suppliers we trust.")
        .h2("Brands we install")
        .li("Rheem")
        .li("Bradford White")
        .li("Rinnai")
        .li("Kohler")
        .li("InSinkErator")
        .h2("Community partners")
        .p("We are a member of the San Francisco Chamber of Commerce and a preferred contractor for BayREN home energy rebates.")
}

fn promotions() -> SitePage {
    SitePage::new("/promotions", "Coupons and Current Offers")
        .h2("This month's coupons")
        .li("$50 off any drain cleaning when you mention this coupon")
        .li("$200 off a new tankless water heater installation")
        .li("Free sewer camera inspection with any trenchless sewer replacement")
        .p("Coupons cannot be combined and expire at the end of the month.")
        .h2("Past offers")
        .link("Our 2019 specials", "/specials-2019")
}

fn rebates() -> SitePage {
    SitePage::new("/water-heater-rebates", "Water Heater Rebates")
        .reach(Reach::SitemapOnly)
        .p("Heat pump water heaters qualify for a BayREN rebate of up to $3,000. We file the rebate paperwork for you.")
}

fn reviews() -> SitePage {
    SitePage::new("/reviews", "Customer Reviews")
        .p("We are rated 4.9 out of 5 from more than 1,200 reviews on Google and Yelp.")
        .h2("What customers say")
        .li("\"Luis replaced our sewer line without touching the garden. Spotless work.\" – Karen W., Noe Valley")
        .li("\"Same-day water heater swap, fair price, and they hauled the old one away.\" – James P., Sunset")
        .li("\"Grace had our old boiler running in an hour on a freezing night.\" – Mei L., Richmond")
        .h2("How do I leave a review?")
        .p("Search for Bayside Plumbing & Heating on Google or Yelp and leave a review there. Priya reads every one.")
}

fn careers() -> SitePage {
    SitePage::new("/careers", "Careers and Training")
        .p("We hire licensed plumbers, heating technicians and apprentices. Every technician gets 40 hours of paid training a year.")
        .h2("Open positions")
        .li("Journeyman plumber")
        .li("Heating technician")
        .li("Customer service representative")
        .link("Our apprenticeship program", "/careers/apprenticeship")
}

fn apprenticeship() -> SitePage {
    SitePage::new("/careers/apprenticeship", "Apprenticeship Program")
        .p("Our four-year paid apprenticeship combines work on our trucks with classes at City College of San Francisco. Apprentices earn while they learn.")
        .h2("How do I apply for the apprenticeship?")
        .p("Applications open every January. Email Aisha Johnson at aisha@baysideplumbingsf.com with a short letter about yourself.")
        .h2("Homeowner workshops")
        .p("We run free homeowner workshops on the first Saturday of each month, on topics like shutting off your water and caring for a water heater.")
}

/// (slug, city, neighborhoods or note)
const AREAS: &[(&str, &str, &str)] = &[
    (
        "san-francisco",
        "San Francisco",
        "We cover every neighborhood, from the Marina to Bayview and from the Sunset to Potrero Hill.",
    ),
    (
        "daly-city",
        "Daly City",
        "We serve Westlake, Serramonte and the Crocker Amazon border.",
    ),
    (
        "south-san-francisco",
        "South San Francisco",
        "We serve homes and businesses from Sign Hill to the bayfront.",
    ),
    (
        "brisbane",
        "Brisbane",
        "Brisbane homes are served from our Harrison Street shop, usually within two hours.",
    ),
    (
        "pacifica",
        "Pacifica",
        "We serve Linda Mar, Rockaway Beach and Sharp Park.",
    ),
    (
        "millbrae",
        "Millbrae",
        "We serve all of Millbrae, including the hills above El Camino Real.",
    ),
    (
        "san-bruno",
        "San Bruno",
        "We serve Rollingwood, Crestmoor and downtown San Bruno.",
    ),
];

fn areas() -> SitePage {
    let mut page = SitePage::new("/service-areas", "Service Areas")
        .p("We serve San Francisco and the northern Peninsula. There is no travel charge inside our service area.");
    for (slug, city, _) in AREAS {
        page = page.link(
            &format!("Plumber in {city}"),
            &format!("/service-areas/{slug}"),
        );
    }
    page
}

fn area((slug, city, note): (&str, &str, &str)) -> SitePage {
    SitePage::new(
        &format!("/service-areas/{slug}"),
        &format!("Plumber in {city}"),
    )
    .p(&format!("Bayside Plumbing & Heating serves {city}. {note}"))
    .p("Call (415) 555-0142 to book a visit.")
}
