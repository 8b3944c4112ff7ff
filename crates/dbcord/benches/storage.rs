//! `cargo bench`: the same scenarios as `dbcord bench`, at 20,000 rows.

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match rt.block_on(dbcord::bench::run(20_000)) {
        Ok(all) => println!("{}", dbcord::bench::markdown(&all)),
        Err(e) => {
            eprintln!("benchmark failed: {e:#}");
            std::process::exit(1);
        }
    }
}
