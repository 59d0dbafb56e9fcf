//! A crawler on `TaskGroup` whose children borrow a client and shared state:
//! `cargo run --example crawl_group`.
//!
//! ```python
//! async def visit(page, tg):
//!     for link in await client.get_links(page):
//!         if link not in seen:
//!             seen.add(link)
//!             tg.create_task(visit(link, tg))
//!
//! async with asyncio.TaskGroup() as tg:
//!     tg.create_task(visit(0, tg))
//! ```
//!
//! A tiny_http server on 127.0.0.1 serves a site where page `n` links to
//! pages `2n + 1` and `2n + 2`, and one page answers `500`. Each child
//! borrows the client and the `RefCell<HashSet>` of pages seen: the group
//! lives in this task, so its futures need not be `'static`, and the boxed
//! type says so with a lifetime, `Pin<Box<dyn Future<Output = T> + 'a>>`.
//! The crawl runs under each error policy. Under `fail_fast` and
//! `drain_on_error` the group closes at the first error, and the children
//! still running see their pushes refused: they print why and go on, where
//! an `unwrap` would panic.

#[path = "common/mod.rs"]
mod common;

use std::cell::RefCell;
use std::collections::HashSet;
use std::pin::Pin;

use aiokit::prelude::*;
use aiokit::{GroupHandle, TaskGroup};
use serde::Deserialize;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// A child of the group: it may borrow anything that lives for `'a`.
type Job<'a> = Pin<Box<dyn Future<Output = Result<u64, Error>> + 'a>>;

#[derive(Deserialize)]
struct Links {
    links: Vec<u64>,
}

/// An HTTP client for the site: one ureq agent (its connection pool), lent
/// to every child.
struct Client {
    agent: ureq::Agent,
    server: common::Server,
}

impl Client {
    /// The links of `page`, fetched on the thread pool (ureq blocks).
    async fn links(&self, page: u64) -> Result<Vec<u64>, Error> {
        let (agent, url) = (
            self.agent.clone(),
            self.server.url(&format!("/pages/{page}?delay_ms=20")),
        );
        let links: Links =
            aiokit::to_thread(move || agent.get(&url).call()?.body_mut().read_json()).await?;
        Ok(links.links)
    }
}

/// What every child borrows.
struct Crawl<'a> {
    client: &'a Client,
    seen: &'a RefCell<HashSet<u64>>,
}

/// Fetches `page` and pushes a visit of each link not seen yet.
fn visit<'a>(crawl: &'a Crawl<'a>, page: u64, group: GroupHandle<Job<'a>>) -> Job<'a> {
    Box::pin(async move {
        let links = crawl.client.links(page).await?;
        for link in links {
            // The borrow ends before the next `.await`: no RefCell is held
            // across a suspension point.
            if !crawl.seen.borrow_mut().insert(link) {
                continue;
            }
            if let Err(refused) = group.push(visit(crawl, link, group.clone())) {
                // Closed by the error policy: skip the link, do not panic.
                println!("   page {page}: link to {link} not followed: {refused}");
            }
        }
        Ok(page)
    })
}

/// Whether the crawl reaches `page`: no page on its way from page 0 is the
/// broken one.
fn reachable(mut page: u64) -> bool {
    loop {
        if page == common::BROKEN_PAGE {
            return false;
        }
        if page == 0 {
            return true;
        }
        page = (page - 1) / 2;
    }
}

fn main() {
    let client = Client {
        agent: ureq::Agent::new_with_defaults(),
        server: common::start(),
    };
    for policy in ["no policy", "fail_fast", "drain_on_error"] {
        println!("== {policy}");
        let seen = RefCell::new(HashSet::from([0]));
        let crawl = Crawl {
            client: &client,
            seen: &seen,
        };
        let group: TaskGroup<Job<'_>> = TaskGroup::new().limit(4);
        let mut group = match policy {
            "fail_fast" => group.fail_fast(),
            "drain_on_error" => group.drain_on_error(),
            _ => group,
        };
        let handle = group.handle();
        group.push(visit(&crawl, 0, handle));
        let (mut crawled, mut failed) = (Vec::new(), 0);
        smol::block_on(async {
            while let Some((index, outcome)) = group.next().await {
                match outcome {
                    Ok(page) => crawled.push(page),
                    Err(error) => {
                        failed += 1;
                        println!("   push #{index} failed: {error}");
                    }
                }
            }
        });
        crawled.sort_unstable();
        println!(
            "   crawled {} pages, {failed} failed: {crawled:?}",
            crawled.len()
        );
        if policy == "no policy" {
            // Errors are reported and the crawl goes on: every page but the
            // broken one and those only it links to.
            let expected = (0..=common::LAST_PAGE)
                .filter(|page| reachable(*page))
                .count();
            assert_eq!((crawled.len(), failed), (expected, 1));
        } else {
            // The group closed at the error: no page below it, and nothing
            // started after it.
            assert_eq!(failed, 1);
            assert!(
                crawled.len()
                    < (0..=common::LAST_PAGE)
                        .filter(|page| reachable(*page))
                        .count()
            );
        }
    }
}
