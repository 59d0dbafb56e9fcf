//! Hashing a large file in a blocking closure, with progress reported to the
//! async side: `cargo run --release --example hash_file`.
//!
//! The example writes a 64 MiB temporary file, then hashes it (FNV-1a, 64 bit)
//! inside `aiokit::to_thread`, sending progress through a channel that the
//! async task prints while it waits. The closure owns the file; only numbers
//! cross the channel.

use std::io::{Read, Write};
use std::time::Instant;

use aiokit::prelude::*;

const SIZE: usize = 64 << 20;
const CHUNK: usize = 1 << 20;

/// FNV-1a, 64 bit: simple, and enough to show the data was read.
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x100_0000_01b3);
    }
    hash
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn main() -> std::io::Result<()> {
    let path = std::env::temp_dir().join(format!("aiokit-hash-{}.bin", std::process::id()));
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let chunk: Vec<u8> = (0..CHUNK).map(|i| (i * 31 % 251) as u8).collect();
        for _ in 0..SIZE / CHUNK {
            file.write_all(&chunk)?;
        }
        file.flush()?;
    }

    let result = smol::block_on(async {
        let (progress_tx, progress) = smol::channel::unbounded::<usize>();
        let file_path = path.clone();
        let hashing = aiokit::to_thread(move || -> std::io::Result<u64> {
            let mut file = std::fs::File::open(file_path)?;
            let mut buf = vec![0; CHUNK];
            let (mut hash, mut done) = (FNV_OFFSET, 0);
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    return Ok(hash);
                }
                hash = fnv1a(hash, &buf[..n]);
                done += n;
                // The receiver may be gone if the caller gave up: ignore.
                let _ = progress_tx.try_send(done);
            }
        });
        let start = Instant::now();
        // Print progress while the closure runs: `progress` ends when the
        // closure returns and drops its sender.
        let printer = async {
            let mut last_tenth = 0;
            while let Ok(done) = progress.recv().await {
                let tenth = done * 10 / SIZE;
                if tenth > last_tenth {
                    last_tenth = tenth;
                    println!("  {:>3}% after {:?}", tenth * 10, start.elapsed());
                }
            }
        };
        let (hash, ()) = (hashing, printer).gather().await;
        hash.map(|h| (h, start.elapsed()))
    });
    std::fs::remove_file(&path)?;
    let (hash, elapsed) = result?;
    println!("FNV-1a of {} MiB: {hash:016x} in {elapsed:?}", SIZE >> 20);
    Ok(())
}
