//! `cargo bench`: the pushdown benchmark (see `dbcord bench`), for a
//! 2,000-row and a 10,000-row users table.

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    for rows in [2_000, 10_000] {
        match rt.block_on(dbcord::cli::bench::run(rows)) {
            Ok(report) => println!("{report}"),
            Err(e) => {
                eprintln!("benchmark failed: {e:#}");
                std::process::exit(1);
            }
        }
    }
}
