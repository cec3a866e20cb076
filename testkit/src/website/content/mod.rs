//! The site's pages as data, by part of the site.

mod blog;
mod core;
mod more;
mod services;

use super::model::SitePage;

/// Every HTML page the site serves, staff-only ones included, in a fixed order.
pub(crate) fn all() -> Vec<SitePage> {
    let mut pages = core::pages();
    pages.extend(services::pages());
    pages.extend(more::pages());
    pages.extend(blog::pages());
    pages
}
