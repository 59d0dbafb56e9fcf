//! The retry example (`examples/retry_backon.rs`): backon retrying a flaky
//! operation with `aiokit::sleep` as its sleeper, under every executor of
//! the matrix, on real timers and on the virtual clock (where the waits are
//! exact).

mod common;

#[allow(dead_code)] // `main` is the example's own.
#[path = "../examples/retry_backon.rs"]
mod retry_backon;

use std::time::Duration;

use aiokit::clock::now;

use common::*;
use retry_backon::{Flaky, fetch_with_retry};

#[test]
fn smoke() {
    matrix(|| async {
        let service = Flaky::new(0);
        assert_eq!(
            fetch_with_retry(&service).await.unwrap(),
            "answered on request 1"
        );
        assert_eq!(service.calls(), 1);
    });
}

#[test]
fn retries_after_sleeping_on_aiokit_timers() {
    time_matrix(|| async {
        let service = Flaky::new(2);
        let start = now();
        let answer = fetch_with_retry(&service).await.unwrap();
        assert_eq!(answer, "answered on request 3");
        assert_eq!(service.calls(), 3);
        // Two waits of the backoff (10 ms, then 20 ms) really slept: timers
        // never fire early.
        let took = now() - start;
        assert!(took >= Duration::from_millis(30), "took only {took:?}");
    });
}

#[test]
fn gives_up_after_the_last_retry_with_the_last_error() {
    virtual_matrix(|| async {
        let service = Flaky::new(u32::MAX);
        let start = now();
        let error = fetch_with_retry(&service).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
        assert_eq!(error.to_string(), "request 5 refused");
        assert_eq!(service.calls(), 5, "the first attempt and 4 retries");
        // On the virtual clock: the five requests' 1 ms each and the four
        // backoffs (which backon computes in floating point, to within
        // nanoseconds), and nothing else.
        let took = now() - start;
        let expected = Duration::from_millis(5 + 10 + 20 + 40 + 80);
        assert!(
            took.abs_diff(expected) < Duration::from_micros(1),
            "took {took:?}"
        );
    });
}
