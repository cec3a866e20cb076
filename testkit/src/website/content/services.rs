//! What the business sells: services index, one page per service, pricing, water heater
//! models with specs, stock, how a visit works and the booking rules.

use crate::website::model::SitePage;

/// (slug, name, intro, price line, included)
const SERVICES: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "drain-cleaning",
        "Drain Cleaning",
        "Slow sinks, gurgling tubs and backed-up main lines cleared with cable machines and hydro-jetting.",
        "Drain cleaning from $149, including a camera check of the first 50 feet.",
        &[
            "Kitchen, bath and laundry drains",
            "Main line cleanouts",
            "Hydro-jetting for grease and roots",
        ],
    ),
    (
        "water-heater-installation",
        "Water Heater Installation",
        "We replace old tank water heaters with new high-efficiency models, usually the same day.",
        "Water heater installation: $1,850 for a standard 50-gallon tank, installed with permit and haul-away.",
        &[
            "Permit and city inspection",
            "New earthquake straps and expansion tank",
            "Removal of the old heater",
        ],
    ),
    (
        "tankless-water-heaters",
        "Tankless Water Heater Installation",
        "Endless hot water and lower gas bills with a wall-mounted tankless unit.",
        "Tankless water heater installation from $3,400, including venting and a gas line upgrade check.",
        &[
            "Sizing for your household",
            "Venting and condensate drain",
            "Annual flush reminder",
        ],
    ),
    (
        "water-heater-repair",
        "Water Heater Repair",
        "No hot water, a pilot that won't stay lit or a leaking tank: we diagnose and fix most heaters in one visit.",
        "Water heater repair from $189.",
        &[
            "Thermocouple and gas valve replacement",
            "Anode rod replacement",
            "Flushing sediment",
        ],
    ),
    (
        "sewer-camera-inspection",
        "Sewer Camera Inspection",
        "A video inspection of your sewer lateral shows roots, cracks and sags before you buy or sell a home.",
        "Sewer camera inspection: $295 with a recorded video and written report.",
        &[
            "Recorded video of the whole lateral",
            "Line location and depth",
            "Written report for buyers and sellers",
        ],
    ),
    (
        "trenchless-sewer-replacement",
        "Trenchless Sewer Replacement",
        "We replace broken sewer laterals by pipe bursting, without digging up your garden or sidewalk.",
        "Trenchless sewer replacement from $8,500 for a typical 40-foot lateral.",
        &[
            "Pipe bursting with HDPE pipe",
            "City lateral compliance certificate",
            "Ten-year warranty on the new line",
        ],
    ),
    (
        "leak-detection",
        "Leak Detection",
        "Acoustic and thermal leak detection finds hidden leaks in walls, slabs and yards.",
        "Leak detection: $275 per visit.",
        &[
            "Acoustic listening equipment",
            "Thermal imaging",
            "Pressure testing",
        ],
    ),
    (
        "toilet-repair",
        "Toilet Repair",
        "Running, clogged or rocking toilets repaired, or replaced with water-saving models.",
        "Toilet repair from $135.",
        &[
            "Flappers, fill valves and wax rings",
            "New toilet installation",
            "Low-flow upgrades",
        ],
    ),
    (
        "faucet-installation",
        "Faucet and Fixture Installation",
        "Kitchen and bathroom faucets, showers and sinks installed and leak-tested.",
        "Faucet installation from $195, plus the fixture.",
        &[
            "Kitchen and bath faucets",
            "Shower valves",
            "Sinks and vanities",
        ],
    ),
    (
        "gas-line-repair",
        "Gas Line Repair",
        "Gas leaks repaired and new gas lines run for ranges, dryers and fire pits, with pressure testing.",
        "Gas line repair from $350.",
        &[
            "Leak repair and pressure test",
            "New appliance lines",
            "Seismic shut-off valves",
        ],
    ),
    (
        "furnace-repair",
        "Furnace Repair",
        "Gas furnaces repaired and tuned so your home stays warm all winter.",
        "Furnace repair from $179, plus parts.",
        &[
            "Ignitors and flame sensors",
            "Blower motors",
            "Thermostat replacement",
        ],
    ),
    (
        "boiler-service",
        "Boiler Service",
        "Hot water and steam boilers serviced in the older buildings of the city.",
        "Boiler service: $229 for an annual tune-up.",
        &[
            "Annual safety inspection",
            "Radiator bleeding",
            "Circulator pump repair",
        ],
    ),
    (
        "garbage-disposal-installation",
        "Garbage Disposal Installation",
        "New garbage disposals installed, or jammed ones freed and repaired.",
        "Garbage disposal installation: $345, including a half-horsepower InSinkErator unit.",
        &[
            "Removal of the old unit",
            "Dishwasher connection",
            "Same-day installation",
        ],
    ),
    (
        "repiping",
        "Whole-House Repiping",
        "Old galvanized pipes replaced with copper or PEX for better pressure and clean water.",
        "Whole-house repiping from $6,900 for a two-bathroom home.",
        &["Copper or PEX", "Wall patching", "Permit and inspection"],
    ),
];

pub(crate) fn pages() -> Vec<SitePage> {
    let mut pages = vec![index()];
    pages.extend(SERVICES.iter().map(|s| service(*s)));
    pages.extend([pricing(), models(), inventory(), process(), booking_rules()]);
    pages
}

fn index() -> SitePage {
    let mut page = SitePage::new("/services", "Plumbing and Heating Services")
        .p("From a dripping faucet to a new sewer line, our licensed plumbers handle every job in the house.")
        .h2("Our services");
    for (slug, name, ..) in SERVICES {
        page = page.link(name, &format!("/services/{slug}"));
    }
    page.h2("More")
        .link("Price list", "/pricing")
        .link("Water heater models", "/water-heaters/models")
        .link("Parts and heaters in stock", "/inventory")
        .link("How a visit works", "/how-it-works")
        .link("Booking rules", "/booking-rules")
        .link("Brochure (PDF)", "/brochure.pdf")
}

fn service((slug, name, intro, price, included): (&str, &str, &str, &str, &[&str])) -> SitePage {
    let mut page = SitePage::new(&format!("/services/{slug}"), name)
        .p(intro)
        .h2("What's included");
    for item in included {
        page = page.li(item);
    }
    page.h2("Price").p(price).p("Call (415) 555-0142 to book.")
}

fn pricing() -> SitePage {
    SitePage::new("/pricing", "Pricing")
        .p("We quote a flat price before we start. These are our standard prices for San Francisco.")
        .h2("Standard prices")
        .row(&["Service", "Price"])
        .row(&["Diagnostic visit", "$89, waived if you go ahead with the repair"])
        .row(&["Labor", "$165 per hour"])
        .row(&["Drain cleaning", "from $149"])
        .row(&["Standard water heater installation (50-gallon tank)", "$1,850"])
        .row(&["Tankless water heater installation", "from $3,400"])
        .row(&["Sewer camera inspection", "$295"])
        .row(&["Leak detection", "$275"])
        .row(&["Furnace repair", "from $179"])
        .row(&["Boiler service", "$229"])
        .row(&["After-hours emergency call-out", "$150 on top of the regular price"])
        .h2("Minimum charge")
        .p("Every visit has a minimum charge of $89.")
}

fn models() -> SitePage {
    SitePage::new("/water-heaters/models", "Water Heater Models We Install")
        .p("We install tank and tankless water heaters from Rheem, Bradford White and Rinnai.")
        .h2("Technical specifications")
        .row(&["Model", "Type", "Capacity", "Energy rating", "Warranty"])
        .row(&[
            "Rheem Performance Platinum 50",
            "Gas tank",
            "50 gallons",
            "UEF 0.70",
            "12 years",
        ])
        .row(&[
            "Bradford White RG250T6N",
            "Gas tank",
            "50 gallons",
            "UEF 0.64",
            "6 years",
        ])
        .row(&[
            "Rinnai RU199iN",
            "Tankless",
            "11 gallons per minute",
            "UEF 0.93",
            "15 years on the heat exchanger",
        ])
        .row(&[
            "Rheem ProTerra 65 Hybrid",
            "Heat pump",
            "65 gallons",
            "UEF 3.75",
            "10 years",
        ])
}

fn inventory() -> SitePage {
    SitePage::new("/inventory", "In Stock Now")
        .p("These heaters and parts are in stock at our Harrison Street shop, so we can install them the same day.")
        .h2("Water heaters in stock")
        .row(&["Item", "In stock"])
        .row(&["Rheem Performance Platinum 50", "6 units"])
        .row(&["Bradford White RG250T6N", "4 units"])
        .row(&["Rinnai RU199iN", "2 units"])
        .h2("Parts in stock")
        .li("Thermocouples and gas valves for most tank heaters")
        .li("Toilet flappers, fill valves and wax rings")
        .li("Half-horsepower InSinkErator garbage disposals")
}

fn process() -> SitePage {
    SitePage::new("/how-it-works", "How a Visit Works")
        .h2("Step by step")
        .li("1. Call or book online and pick a two-hour arrival window.")
        .li("2. We text you when the technician is on the way.")
        .li("3. The technician diagnoses the problem and gives you a flat price in writing.")
        .li("4. You approve the price before any work starts.")
        .li("5. We clean up, test everything and take payment on site.")
        .h2("What should I do before the plumber arrives?")
        .p("Clear the area under the sink or around the heater and keep pets in another room. Make sure someone over 18 is home.")
}

fn booking_rules() -> SitePage {
    SitePage::new("/booking-rules", "Booking Rules")
        .h2("Same-day appointments")
        .p("Same-day appointments must be booked before 2 PM. Later calls are booked for the next morning unless it is an emergency.")
        .h2("Minimum charge")
        .p("Every visit has a minimum charge of $89, which covers the first half hour of work.")
        .h2("Arrival windows")
        .p("We book two-hour arrival windows from 7 AM to 4 PM. The last window of the day starts at 4 PM.")
        .h2("Landlords and tenants")
        .p("Tenants need written approval from the property owner for any job over $500.")
}
