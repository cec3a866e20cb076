//! A recipient's IANA time zone inferred from their number, for the targets whose CSV row does
//! not name one.
//!
//! NANP numbers (+1) are placed by area code. An area code is a region, not a zone: where one
//! spans two zones the table picks the zone most of its subscribers live in, and says so next
//! to it. Other countries are placed only when the whole country keeps one zone (its main
//! territory, at least); for the rest the answer is `None`: "use the campaign's default zone".
//! A wrong guess would call someone at the wrong hour, so an honest `None` is preferred.

use crate::phone::E164;
use chrono_tz::Tz;
use phonenumber::PhoneNumber;

/// The zone to call `number` in, when the number alone settles it.
pub fn infer_time_zone(number: &E164) -> Option<Tz> {
    let parsed = phonenumber::parse(None, number.as_str()).ok()?;
    zone_of(&parsed)
}

/// [`infer_time_zone`] for a number the importer has already parsed (parsing is the costly part).
pub(crate) fn zone_of(number: &PhoneNumber) -> Option<Tz> {
    if number.code().value() == 1 {
        let area_code = number.national().value() / 10_000_000;
        return u16::try_from(area_code).ok().and_then(nanp_zone);
    }
    let region = number.country().id()?;
    country_zone(region.as_ref())
}

/// The zone of a NANP area code; `None` for non-geographic codes (toll-free, 500, 900 …) and for
/// 867 (Yukon, Northwest Territories, Nunavut: five zones and no majority).
pub fn nanp_zone(area_code: u16) -> Option<Tz> {
    NANP_ZONES
        .iter()
        .find(|(codes, _)| codes.contains(&area_code))
        .map(|(_, zone)| *zone)
}

/// Area codes by zone. Majority picks, where an area code crosses a zone line:
/// - Florida 850/448: Pensacola, Fort Walton Beach and Panama City (Central) outnumber
///   Tallahassee (Eastern).
/// - Indiana 812/930: Evansville is Central, most of the south is Eastern. 574 and 219 follow
///   South Bend (Eastern) and Gary (Central).
/// - Kentucky 270/364 (Central) vs 502/606/859 (Eastern); Tennessee 423/865 are Eastern, 931
///   (Clarksville, Cookeville) Central.
/// - Kansas 620/785, Nebraska 308, North Dakota 701, South Dakota 605 (Rapid City is Mountain):
///   Central. Texas 432 (Midland–Odessa) Central; 915 (El Paso) Mountain.
/// - Idaho 208/986: Boise (Mountain) outnumbers the panhandle (Pacific). Oregon 541 (Malheur
///   is Mountain) and Nevada 775 (West Wendover) Pacific. Arizona 928 (the Navajo Nation keeps
///   DST) Phoenix. Michigan 906 (four Central counties) Eastern.
/// - British Columbia 250 (the Kootenays are Mountain) Pacific; Ontario 807 (Kenora is Central)
///   follows Thunder Bay (Eastern); Newfoundland 709 (Labrador is Atlantic) Newfoundland.
const NANP_ZONES: &[(&[u16], Tz)] = &[
    (EASTERN, Tz::America__New_York),
    (INDIANA_EASTERN, Tz::America__Indiana__Indianapolis),
    (MICHIGAN, Tz::America__Detroit),
    (CENTRAL, Tz::America__Chicago),
    (MOUNTAIN, Tz::America__Denver),
    (&[208, 986], Tz::America__Boise),
    (&[480, 520, 602, 623, 928], Tz::America__Phoenix),
    (PACIFIC, Tz::America__Los_Angeles),
    (&[907], Tz::America__Anchorage),
    (&[808], Tz::Pacific__Honolulu),
    (&[787, 939], Tz::America__Puerto_Rico),
    (&[340], Tz::America__St_Thomas),
    (&[671], Tz::Pacific__Guam),
    (&[670], Tz::Pacific__Saipan),
    (&[684], Tz::Pacific__Pago_Pago),
    (ONTARIO_QUEBEC, Tz::America__Toronto),
    (&[204, 431, 584], Tz::America__Winnipeg),
    (&[306, 474, 639], Tz::America__Regina),
    (&[368, 403, 587, 780, 825], Tz::America__Edmonton),
    (&[236, 250, 257, 604, 672, 778], Tz::America__Vancouver),
    (&[428, 506], Tz::America__Moncton),
    (&[782, 902], Tz::America__Halifax),
    (&[709, 879], Tz::America__St_Johns),
    (CARIBBEAN_ATLANTIC, Tz::America__Puerto_Rico),
    (&[809, 829, 849], Tz::America__Santo_Domingo),
    (&[658, 876], Tz::America__Jamaica),
    (&[242], Tz::America__Nassau),
    (&[345], Tz::America__Cayman),
    (&[441], Tz::Atlantic__Bermuda),
    (&[649], Tz::America__Grand_Turk),
];

/// Eastern US: CT, DC, DE, FL (not 448/850), GA, KY (502/606/859), MA, MD, ME, NC, NH, NJ, NY,
/// OH, PA, RI, SC, TN (423/865), VA, VT, WV.
const EASTERN: &[u16] = &[
    203, 475, 860, 959, 202, 771, 302, 239, 305, 321, 324, 352, 386, 407, 561, 645, 656, 689, 727,
    728, 754, 772, 786, 813, 863, 904, 941, 954, 229, 404, 470, 478, 678, 706, 762, 770, 912, 943,
    502, 606, 859, 339, 351, 413, 508, 617, 774, 781, 857, 978, 227, 240, 301, 410, 443, 667, 207,
    252, 336, 704, 743, 828, 910, 919, 980, 984, 603, 201, 551, 609, 640, 732, 848, 856, 862, 908,
    973, 212, 315, 329, 332, 347, 363, 516, 518, 585, 607, 624, 631, 646, 680, 716, 718, 838, 845,
    914, 917, 929, 934, 216, 220, 234, 283, 326, 330, 380, 419, 436, 440, 513, 567, 614, 740, 937,
    215, 223, 267, 272, 412, 445, 484, 570, 582, 610, 717, 724, 814, 835, 878, 401, 803, 839, 843,
    854, 864, 423, 865, 276, 434, 540, 571, 686, 703, 757, 804, 826, 948, 802, 304, 681,
];

/// Indiana outside the Chicago and Evansville corners.
const INDIANA_EASTERN: &[u16] = &[260, 317, 463, 574, 765, 812, 930];

const MICHIGAN: &[u16] = &[
    231, 248, 269, 313, 517, 586, 616, 679, 734, 810, 906, 947, 989,
];

/// Central US: AL, AR, FL 448/850, IA, IL, IN 219, KS, KY 270/364, LA, MN, MO, MS, ND, NE, OK,
/// SD, TN (615/629/731/901/931), TX (not 915), WI.
const CENTRAL: &[u16] = &[
    205, 251, 256, 334, 659, 938, 327, 479, 501, 870, 448, 850, 319, 515, 563, 641, 712, 217, 224,
    309, 312, 331, 447, 464, 618, 630, 708, 730, 773, 779, 815, 847, 861, 872, 219, 316, 620, 785,
    913, 270, 364, 225, 318, 337, 504, 985, 218, 320, 507, 612, 651, 763, 924, 952, 314, 417, 557,
    573, 636, 660, 816, 975, 228, 601, 662, 769, 701, 308, 402, 531, 405, 539, 572, 580, 918, 605,
    615, 629, 731, 901, 931, 210, 214, 254, 281, 325, 346, 361, 409, 430, 432, 469, 512, 682, 713,
    726, 737, 806, 817, 830, 832, 903, 936, 940, 945, 956, 972, 979, 262, 274, 353, 414, 534, 608,
    715, 920,
];

/// Mountain US with DST: CO, MT, NM, UT, WY, TX 915.
const MOUNTAIN: &[u16] = &[
    303, 719, 720, 970, 983, 406, 505, 575, 385, 435, 801, 307, 915,
];

/// Pacific US: CA, NV, OR, WA.
const PACIFIC: &[u16] = &[
    209, 213, 279, 310, 323, 341, 350, 408, 415, 424, 442, 510, 530, 559, 562, 619, 626, 628, 650,
    657, 661, 669, 707, 714, 747, 760, 805, 818, 820, 831, 840, 858, 909, 916, 925, 949, 951, 702,
    725, 775, 458, 503, 541, 971, 206, 253, 360, 425, 509, 564,
];

/// Ontario (807 included, see above) and Quebec.
const ONTARIO_QUEBEC: &[u16] = &[
    226, 249, 289, 343, 365, 382, 387, 416, 437, 519, 548, 613, 647, 683, 705, 742, 753, 807, 905,
    942, 263, 354, 367, 418, 438, 450, 468, 514, 579, 581, 819, 873,
];

/// Eastern Caribbean islands on Atlantic Standard Time all year (no DST), like Puerto Rico:
/// Anguilla, Antigua, Barbados, British Virgin Islands, Dominica, Grenada, Montserrat, Saint
/// Kitts, Saint Lucia, Saint Vincent, Sint Maarten, Trinidad and Tobago.
const CARIBBEAN_ATLANTIC: &[u16] = &[264, 268, 246, 284, 767, 473, 664, 869, 758, 784, 721, 868];

/// Countries (CLDR region ids) whose people all keep one zone, or nearly all: Spain's Canary
/// Islands and Portugal's Azores are an hour off, and are the exception a campaign accepts.
fn country_zone(region: &str) -> Option<Tz> {
    COUNTRY_ZONES
        .iter()
        .find(|(id, _)| *id == region)
        .map(|(_, zone)| *zone)
}

const COUNTRY_ZONES: &[(&str, Tz)] = &[
    ("GB", Tz::Europe__London),
    ("IE", Tz::Europe__Dublin),
    ("DE", Tz::Europe__Berlin),
    ("FR", Tz::Europe__Paris),
    ("ES", Tz::Europe__Madrid),
    ("PT", Tz::Europe__Lisbon),
    ("IT", Tz::Europe__Rome),
    ("NL", Tz::Europe__Amsterdam),
    ("BE", Tz::Europe__Brussels),
    ("LU", Tz::Europe__Luxembourg),
    ("CH", Tz::Europe__Zurich),
    ("AT", Tz::Europe__Vienna),
    ("DK", Tz::Europe__Copenhagen),
    ("NO", Tz::Europe__Oslo),
    ("SE", Tz::Europe__Stockholm),
    ("FI", Tz::Europe__Helsinki),
    ("IS", Tz::Atlantic__Reykjavik),
    ("PL", Tz::Europe__Warsaw),
    ("CZ", Tz::Europe__Prague),
    ("SK", Tz::Europe__Bratislava),
    ("HU", Tz::Europe__Budapest),
    ("SI", Tz::Europe__Ljubljana),
    ("HR", Tz::Europe__Zagreb),
    ("RO", Tz::Europe__Bucharest),
    ("BG", Tz::Europe__Sofia),
    ("GR", Tz::Europe__Athens),
    ("CY", Tz::Asia__Nicosia),
    ("MT", Tz::Europe__Malta),
    ("EE", Tz::Europe__Tallinn),
    ("LV", Tz::Europe__Riga),
    ("LT", Tz::Europe__Vilnius),
    ("IL", Tz::Asia__Jerusalem),
    ("AE", Tz::Asia__Dubai),
    ("SA", Tz::Asia__Riyadh),
    ("IN", Tz::Asia__Kolkata),
    ("JP", Tz::Asia__Tokyo),
    ("KR", Tz::Asia__Seoul),
    ("SG", Tz::Asia__Singapore),
    ("HK", Tz::Asia__Hong_Kong),
    ("TW", Tz::Asia__Taipei),
    ("PH", Tz::Asia__Manila),
    ("NZ", Tz::Pacific__Auckland),
    ("ZA", Tz::Africa__Johannesburg),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(raw: &str) -> Option<Tz> {
        infer_time_zone(&E164::parse(raw).expect("test numbers are E.164"))
    }

    #[test]
    fn nanp_numbers_are_placed_by_area_code() {
        assert_eq!(zone("+12125550100"), Some(Tz::America__New_York));
        assert_eq!(zone("+13125550100"), Some(Tz::America__Chicago));
        assert_eq!(zone("+13035550100"), Some(Tz::America__Denver));
        assert_eq!(zone("+16025550100"), Some(Tz::America__Phoenix));
        assert_eq!(zone("+14155550100"), Some(Tz::America__Los_Angeles));
        assert_eq!(zone("+14165550100"), Some(Tz::America__Toronto));
        assert_eq!(zone("+16045550100"), Some(Tz::America__Vancouver));
        assert_eq!(zone("+18085550100"), Some(Tz::Pacific__Honolulu));
    }

    #[test]
    fn non_geographic_and_zoneless_nanp_codes_fall_back_to_the_campaign_zone() {
        assert_eq!(zone("+18005550100"), None);
        assert_eq!(zone("+18675550100"), None);
    }

    #[test]
    fn single_zone_countries_are_placed_and_multi_zone_ones_are_not() {
        assert_eq!(zone("+442079460000"), Some(Tz::Europe__London));
        assert_eq!(zone("+4930123456"), Some(Tz::Europe__Berlin));
        assert_eq!(zone("+33142685300"), Some(Tz::Europe__Paris));
        assert_eq!(zone("+34912345678"), Some(Tz::Europe__Madrid));
        assert_eq!(zone("+61291234567"), None, "Australia");
        assert_eq!(zone("+5511912345678"), None, "Brazil");
        assert_eq!(zone("+74951234567"), None, "Russia");
    }

    #[test]
    fn no_area_code_is_listed_under_two_zones() {
        let mut seen = std::collections::BTreeMap::new();
        for (codes, zone) in NANP_ZONES {
            for code in *codes {
                if let Some(other) = seen.insert(*code, *zone) {
                    panic!("{code} is under {other} and {zone}");
                }
            }
        }
        assert!(seen.len() > 380, "only {} area codes", seen.len());
    }
}
