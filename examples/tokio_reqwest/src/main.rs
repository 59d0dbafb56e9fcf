//! aiokit under tokio with reqwest, an async HTTP client built on tokio.
//! `cargo run -p aiokit-tokio-reqwest` (a package of its own, so that the
//! other examples and the tests do not build reqwest)
//!
//! aiokit's combinators run on any executor, but reqwest needs tokio's
//! reactor: it works under `#[tokio::main]` (or inside a tokio runtime) and
//! panics under `smol::block_on` with "there is no reactor running, must be
//! called from the context of a Tokio 1.x runtime". The server is a tiny_http
//! server on 127.0.0.1 started by the example itself; reqwest is built without
//! TLS.

#[path = "../../common/mod.rs"]
mod common;

use std::time::Duration;

use aiokit::prelude::*;
use aiokit::{Page, Settled};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct User {
    id: u32,
    name: String,
}

#[derive(Debug, Deserialize)]
struct ItemsPage {
    items: Vec<u64>,
    next: Option<u64>,
}

/// GETs `url` and parses its JSON body; a status of 400 or more is an error.
async fn get_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: String,
) -> Result<T, reqwest::Error> {
    client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = common::start();
    // One client, shared by reference: each call borrows it.
    let client = reqwest::Client::new();
    let user = |id: u32, delay_ms: u32| {
        get_json::<User>(
            &client,
            server.url(&format!("/users/{id}?delay_ms={delay_ms}")),
        )
    };

    println!("== gather: three requests at once");
    let (a, b, c) = (user(1, 100), user(2, 100), user(3, 100))
        .try_gather()
        .await?;
    println!("   {} / {} / {}", a.name, b.name, c.name);

    println!("== gather_settled: user 0 does not exist");
    for outcome in aiokit::gather_settled([1, 0].map(|id| user(id, 0))).await {
        match outcome {
            Settled::Ok(user) => println!("   ok: user {}", user.id),
            Settled::Err(error) => println!("   failed: {error}"),
            Settled::Panicked(panic) => println!("   {panic}"),
        }
    }

    println!("== timeout: a 2 s answer, given 200 ms");
    match user(4, 2000).timeout(Duration::from_millis(200)).await {
        Ok(user) => println!("   unexpected: {:?}", user?.name),
        Err(elapsed) => println!("   gave up: {elapsed}"),
    }

    println!("== paginate: the closure borrows the client for each page");
    let items: Vec<u64> = aiokit::paginate(1u64, |page| {
        let request = get_json::<ItemsPage>(&client, server.url(&format!("/items?page={page}")));
        async move {
            let body = request.await?;
            Ok::<_, reqwest::Error>(match body.next {
                Some(next) => Page::next(body.items, next),
                None => Page::last(body.items),
            })
        }
    })
    .try_collect()
    .await?;
    println!("   {items:?}");
    assert_eq!(items, (0..9).collect::<Vec<_>>());
    Ok(())
}
