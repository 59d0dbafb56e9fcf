//! The asyncio tutorial's producer/consumer with `aiokit::Queue`:
//! `cargo run --example queue_http`.
//!
//! A tiny_http server on 127.0.0.1 (a free port) serves jobs as JSON. Two
//! producers fetch them with ureq (a blocking client, run through
//! `aiokit::to_thread`) and `put` them on a bounded queue; three consumers
//! `get` and process them until the queue is shut down. Where asyncio uses
//! `create_task`, everything here runs concurrently in one task with `gather`:
//! nothing is spawned, and the futures borrow the queue.

use std::time::Duration;

use aiokit::Queue;
use aiokit::prelude::*;
use serde::Deserialize;

type Error = Box<dyn std::error::Error + Send + Sync>;

const WORDS: [&str; 5] = ["gather", "race", "timeout", "paginate", "queue"];

/// Serves `GET /jobs/<id>` -> `{"id": <id>, "word": "..."}` on a free port.
fn start_server() -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = server.server_addr().to_ip().expect("an IP address").port();
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let id: usize = request
                .url()
                .trim_start_matches("/jobs/")
                .parse()
                .unwrap_or(0);
            let body = format!(r#"{{"id": {id}, "word": "{}"}}"#, WORDS[id % WORDS.len()]);
            let _ = request.respond(tiny_http::Response::from_string(body));
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[derive(Debug, Deserialize)]
struct Job {
    id: u32,
    word: String,
}

/// Fetches each job and puts it on the queue (waiting while the queue is full).
async fn producer(
    name: &str,
    base: &str,
    ids: std::ops::Range<u32>,
    queue: &Queue<Job>,
) -> Result<(), Error> {
    for id in ids {
        let url = format!("{base}/jobs/{id}");
        let job: Job =
            aiokit::to_thread(move || ureq::get(&url).call()?.body_mut().read_json()).await?;
        println!(
            "{name}: fetched job {}, queue holds {}",
            job.id,
            queue.len()
        );
        queue.put(job).await?;
    }
    Ok(())
}

/// Processes jobs until the queue is shut down and empty.
async fn consumer(name: &str, queue: &Queue<Job>) -> usize {
    let mut processed = 0;
    while let Ok(job) = queue.get().await {
        aiokit::sleep(Duration::from_millis(5 * job.word.len() as u64)).await; // work
        println!("    {name}: job {} -> {}", job.id, job.word.to_uppercase());
        processed += 1;
    } // each `job` guard is dropped at the end of its iteration: that job is done
    println!("    {name}: the queue is shut down, stopping after {processed} jobs");
    processed
}

fn main() -> Result<(), Error> {
    let base = start_server();
    println!("serving jobs at {base}");
    let queue = Queue::bounded(3);
    smol::block_on(async {
        let main = async {
            let produced = (
                producer("producer A", &base, 0..6, &queue),
                producer("producer B", &base, 6..12, &queue),
            )
                .try_gather()
                .await;
            if produced.is_ok() {
                queue.join().await; // asyncio: await queue.join()
                println!("every job is done: shutting the queue down");
            }
            queue.shutdown(); // asyncio: cancel the consumers, or a None sentinel each
            produced
        };
        let consumers = aiokit::gather(
            ["consumer 1", "consumer 2", "consumer 3"].map(|name| consumer(name, &queue)),
        );
        let (produced, processed) = (main, consumers).gather().await;
        produced?;
        println!("jobs processed per consumer: {processed:?}");
        assert_eq!(processed.iter().sum::<usize>(), 12);
        Ok(())
    })
}
