//! The vehicle a call talked about: a known make, with the model word after it and the model
//! year before it when said ("2019 Honda Civic", "my civic" is not enough).

const MAKES: &[(&str, &str)] = &[
    ("acura", "Acura"),
    ("audi", "Audi"),
    ("bmw", "BMW"),
    ("buick", "Buick"),
    ("cadillac", "Cadillac"),
    ("chevrolet", "Chevrolet"),
    ("chevy", "Chevy"),
    ("chrysler", "Chrysler"),
    ("dodge", "Dodge"),
    ("ford", "Ford"),
    ("gmc", "GMC"),
    ("honda", "Honda"),
    ("hyundai", "Hyundai"),
    ("infiniti", "Infiniti"),
    ("jeep", "Jeep"),
    ("kia", "Kia"),
    ("lexus", "Lexus"),
    ("lincoln", "Lincoln"),
    ("mazda", "Mazda"),
    ("mercedes", "Mercedes"),
    ("mitsubishi", "Mitsubishi"),
    ("nissan", "Nissan"),
    ("porsche", "Porsche"),
    ("ram", "Ram"),
    ("subaru", "Subaru"),
    ("tesla", "Tesla"),
    ("toyota", "Toyota"),
    ("volkswagen", "Volkswagen"),
    ("volvo", "Volvo"),
];

/// Words that follow a make but are not a model ("the Honda is due").
const NOT_MODELS: &[&str] = &[
    "is", "was", "for", "in", "and", "that", "the", "at", "with", "to", "has", "needs", "on",
];

/// The first vehicle mentioned in `texts`.
pub(super) fn mentioned<'a>(texts: impl Iterator<Item = &'a str>) -> Option<String> {
    texts.into_iter().find_map(in_text)
}

fn in_text(text: &str) -> Option<String> {
    let tokens: Vec<&str> = text
        .split_whitespace()
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric() && c != '-'))
        .collect();
    let (i, make) = tokens.iter().enumerate().find_map(|(i, t)| {
        let lower = t.to_lowercase();
        MAKES
            .iter()
            .find(|(m, _)| *m == lower)
            .map(|(_, name)| (i, *name))
    })?;
    let year = i
        .checked_sub(1)
        .map(|p| tokens[p])
        .filter(|y| y.len() == 4 && y.parse::<u32>().is_ok_and(|y| (1980..=2035).contains(&y)));
    let model = tokens
        .get(i + 1)
        .filter(|m| !m.is_empty() && !NOT_MODELS.contains(&m.to_lowercase().as_str()))
        .map(|m| capitalised(m));
    let parts: Vec<String> = [year.map(str::to_owned), Some(make.to_owned()), model]
        .into_iter()
        .flatten()
        .collect();
    Some(parts.join(" "))
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
