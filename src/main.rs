//! `tessera-server [FILE] [--name value ...]`: parse the configuration, start the node.
//! Nothing else happens here.

use tessera::config::{Config, RedisEnum};

#[global_allocator]
static ALLOC: tessera::store::memory::CountingAlloc = tessera::store::memory::CountingAlloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--version" || a == "-v") {
        println!("Tessera server v={} (Redis 7.0 compatible)", env!("CARGO_PKG_VERSION"));
        return;
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("Usage: tessera-server [/path/to/config.toml|redis.conf] [--name value ...]");
        println!("Settings use Redis's names, e.g. --port 7000 --cluster-enabled yes --dir /data --save ''");
        println!("Tessera's own: --shards N (default: the CPUs this process may use)");
        return;
    }
    let config_file = args.first().filter(|a| !a.starts_with("--")).cloned().unwrap_or_default();
    let cfg = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("\n*** FATAL CONFIG FILE ERROR (Tessera {}) ***\n{e}", env!("CARGO_PKG_VERSION"));
            std::process::exit(1);
        }
    };
    if let Err(e) = tessera::observe::log::init(cfg.loglevel.as_str(), &cfg.logfile) {
        eprintln!("{e}");
        std::process::exit(1);
    }
    if let Err(e) = tessera::shard::runtime::run(cfg, config_file) {
        tessera::observe::log::warning(&e);
        eprintln!("{e}");
        std::process::exit(1);
    }
}
