//! Who the business is: home, about, history, team, contact, hours, emergency line, gallery,
//! and the staff-only pages a crawler must leave alone.

use crate::website::model::{Reach, SitePage};

pub(crate) fn pages() -> Vec<SitePage> {
    vec![
        home(),
        about(),
        history(),
        team(),
        contact(),
        hours(),
        emergency(),
        gallery(),
        admin_login(),
        admin_dashboard(),
        private_price_sheet(),
    ]
}

fn home() -> SitePage {
    SitePage::new("/", "Bayside Plumbing & Heating")
        .titled("Bayside Plumbing & Heating | San Francisco Plumbers Since 1987")
        .p("Bayside Plumbing & Heating is a family-owned plumbing and heating company serving San Francisco and the Peninsula since 1987. Call (415) 555-0142 to book a licensed plumber.")
        .h2("What we do")
        .p("We clear drains, install and repair water heaters, replace sewer lines and keep furnaces and boilers running through the foggy months.")
        .link("See all our services", "/services?ref=home")
        .link("Current coupons", "/promotions")
        .link("Download our brochure (PDF)", "/brochure.pdf")
        .h2("Why neighbors choose us")
        .li("Upfront, flat-rate pricing before any work starts")
        .li("Licensed, bonded and insured technicians")
        .li("A one-year warranty on all labor")
        .link("Read our reviews", "/reviews")
        .h2("Plumbing emergency?")
        .p("Burst pipe or no heat at night? Our 24/7 emergency line is (415) 555-0199.")
        .link("Emergency service", "/emergency")
}

fn about() -> SitePage {
    SitePage::new("/about", "About Bayside Plumbing & Heating")
        .p("We are a team of 24 plumbers, heating technicians and office staff based in the Mission District of San Francisco. Our trucks cover the whole city and the northern Peninsula.")
        .h2("Our mission")
        .p("We fix it right the first time, we explain every option in plain words, and we leave your home cleaner than we found it.")
        .h2("Learn more")
        .link("Our history", "/about/history")
        .link("Meet the team", "/team")
        .link("Licensing and insurance", "/licensing")
        .link("Certifications and quality", "/certifications")
        .link("Photo gallery", "/gallery")
        .link("Careers", "/careers")
}

fn history() -> SitePage {
    SitePage::new("/about/history", "Our History")
        .h2("How it started")
        .p("Bayside Plumbing & Heating was founded in 1987 by Frank Moretti, a union pipefitter who started with one van and a rented garage on Folsom Street. His daughter Maria Moretti took over as owner in 2012.")
        .h2("Milestones")
        .li("1987: Frank Moretti opens the shop with one van")
        .li("1998: We add heating and boiler service")
        .li("2006: We move to our current shop on Harrison Street")
        .li("2015: We start trenchless sewer replacement")
        .li("2021: Our apprenticeship program graduates its first class")
}

fn person(page: SitePage, name: &str, role: &str, dept: &str, phone: &str, bio: &str) -> SitePage {
    let first = name.split(' ').next().unwrap_or(name).to_lowercase();
    page.h3(name)
        .li(&format!("Role: {role}"))
        .li(&format!("Department: {dept}"))
        .li(&format!("Direct line: {phone}"))
        .li(&format!("Email: {first}@baysideplumbingsf.com"))
        .p(bio)
}

fn team() -> SitePage {
    let page = SitePage::new("/team", "Meet the Team")
        .p("Call our main line at (415) 555-0142 and ask for anyone by name, or use their direct line.")
        .h2("Leadership and office");
    let page = person(
        page,
        "Maria Moretti",
        "Owner and General Manager",
        "Management",
        "(415) 555-0150",
        "Maria grew up in the shop and has run the company since 2012.",
    );
    let page = person(
        page,
        "Daniel Okafor",
        "Service Manager",
        "Service",
        "(415) 555-0151",
        "Daniel schedules our crews and handles escalations.",
    );
    let page = person(
        page,
        "Priya Raman",
        "Billing Coordinator",
        "Billing",
        "(415) 555-0152",
        "Priya answers questions about invoices, payment plans and receipts.",
    );
    let page = page.h2("Field team");
    let page = person(
        page,
        "Luis Hernandez",
        "Master Plumber",
        "Plumbing",
        "(415) 555-0153",
        "Luis has 22 years on the tools and leads our sewer and repiping jobs.",
    );
    let page = person(
        page,
        "Grace Chen",
        "Heating Technician",
        "Heating",
        "(415) 555-0154",
        "Grace services furnaces, boilers and heat pumps.",
    );
    let page = person(
        page,
        "Tom Becker",
        "Water Heater Specialist",
        "Plumbing",
        "(415) 555-0155",
        "Tom installs tank and tankless water heaters.",
    );
    person(
        page,
        "Aisha Johnson",
        "Apprenticeship Coordinator",
        "Training",
        "(415) 555-0156",
        "Aisha runs our four-year apprenticeship program.",
    )
}

fn contact() -> SitePage {
    SitePage::new("/contact", "Contact Us")
        .h2("Call or email")
        .p("Main office: (415) 555-0142")
        .p("Email: office@baysideplumbingsf.com")
        .p("For a burst pipe, gas smell or no heat after hours, call our 24/7 emergency line at (415) 555-0199.")
        .h2("Visit our shop")
        .p("1200 Harrison Street, Suite 4, San Francisco, CA 94103")
        .p("Parking is available in front of the roll-up door. The showroom is open during office hours.")
        .link("Opening hours", "/hours")
        .link("Service areas", "/service-areas")
}

fn hours() -> SitePage {
    SitePage::new("/hours", "Opening Hours")
        .p("Our office and phone lines are open at these times. Emergency service runs around the clock.")
        .h2("Office hours")
        .row(&["Day", "Hours"])
        .row(&["Monday – Friday", "7:00 AM – 6:00 PM"])
        .row(&["Saturday", "8:00 AM – 2:00 PM"])
        .row(&["Sunday", "Closed"])
        .h2("Holidays")
        .p("We are closed on Thanksgiving, Christmas Day and New Year's Day. The emergency line stays open.")
}

fn emergency() -> SitePage {
    SitePage::new("/emergency", "24/7 Emergency Plumbing")
        .p("Plumbing emergencies don't wait for office hours. Call our 24/7 emergency line at (415) 555-0199, day or night, weekends and holidays.")
        .h2("What counts as an emergency")
        .li("A burst or leaking pipe you cannot shut off")
        .li("Sewage backing up into the house")
        .li("No heat when the temperature drops below 50 degrees")
        .li("A gas smell: leave the house first, then call PG&E and us")
        .h2("What to do while you wait")
        .p("Shut off the main water valve, usually at the front of the house near the street. Move valuables away from the water.")
        .h2("Emergency rates")
        .p("An after-hours call-out adds $150 to the regular price.")
}

fn gallery() -> SitePage {
    SitePage::new("/gallery", "Project Gallery")
        .p("Before and after photos from recent jobs: a Victorian repipe in Noe Valley, a tankless install in the Sunset and a trenchless sewer line in Bernal Heights.")
}

fn admin_login() -> SitePage {
    SitePage::new("/admin/login", "Staff Login")
        .reach(Reach::Disallowed)
        .p("Staff only. Sign in with your Bayside account.")
        .link("Dispatch dashboard", "/admin/dashboard")
}

fn admin_dashboard() -> SitePage {
    SitePage::new("/admin/dashboard", "Dispatch Dashboard")
        .reach(Reach::Disallowed)
        .p("Internal: 14 open jobs, 3 trucks in the shop. Alarm code 4471.")
}

fn private_price_sheet() -> SitePage {
    SitePage::new("/private/price-sheet", "Partner Price Sheet")
        .reach(Reach::Disallowed)
        .p("Confidential: our cost on a 50-gallon Rheem tank is $610. Contractor discount 22%.")
}
