//! A blocking HTTP client called through `aiokit::to_thread`, gathered:
//! `cargo run --example blocking_http`.
//!
//! The example starts its own server on 127.0.0.1 (an ephemeral port) that
//! answers each request after 100 ms, then sends 16 GETs with ureq, a
//! blocking client, first one after another and then all at once through
//! `to_thread` + `gather`. The async side never blocks: it could serve other
//! tasks meanwhile.

use std::time::{Duration, Instant};

const REQUESTS: usize = 16;
const DELAY: Duration = Duration::from_millis(100);

/// Serves exactly `count` requests on a fresh local port, each on its own
/// thread after `DELAY`, then stops. Returns the base URL.
fn start_server(count: usize) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = server.server_addr().to_ip().expect("an IP address").port();
    std::thread::spawn(move || {
        for _ in 0..count {
            let Ok(request) = server.recv() else { break };
            std::thread::spawn(move || {
                std::thread::sleep(DELAY);
                let body = format!("hello from {}", request.url());
                let _ = request.respond(tiny_http::Response::from_string(body));
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// One blocking GET: this is the code you cannot call from an async task.
fn get(url: &str) -> Result<String, ureq::Error> {
    ureq::get(url).call()?.body_mut().read_to_string()
}

fn main() -> Result<(), ureq::Error> {
    let base = start_server(2 * REQUESTS);

    let start = Instant::now();
    for i in 0..REQUESTS {
        get(&format!("{base}/item/{i}"))?;
    }
    let serial = start.elapsed();
    println!("{REQUESTS} blocking GETs one after another: {serial:?}");

    let bodies = smol::block_on(async {
        let start = Instant::now();
        let bodies = aiokit::try_gather((0..REQUESTS).map(|i| {
            let url = format!("{base}/item/{i}");
            aiokit::to_thread(move || get(&url))
        }))
        .await;
        println!(
            "{REQUESTS} blocking GETs through to_thread, gathered: {:?}",
            start.elapsed()
        );
        bodies
    })?;
    println!("first: {:?}, last: {:?}", bodies[0], bodies[REQUESTS - 1]);
    assert!(
        bodies
            .iter()
            .enumerate()
            .all(|(i, b)| b.ends_with(&format!("/item/{i}")))
    );
    Ok(())
}
