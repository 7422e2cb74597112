//! Node startup and shutdown: bind the listeners, build the mesh, start one pinned thread per
//! shard running its io_uring loop, wait for SIGTERM/SIGINT (or SHUTDOWN), stop the shards.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::cluster::view::ClusterView;
use crate::config::Config;
use crate::net::uring::Loop;
use crate::observe::log;
use crate::persist::rdb::file::LoadStats;
use crate::shard::handle::Handle;
use crate::shard::mesh::{build_mesh, MeshMsg};
use crate::shard::{NodeInfo, ShardState, ShardStats};
use crate::store::Store;

static USER_SHUTDOWN: AtomicBool = AtomicBool::new(false);

/// Asks the node to stop (the SHUTDOWN command): the main thread wakes and stops the shards.
pub fn request_shutdown() {
    USER_SHUTDOWN.store(true, Ordering::SeqCst);
    // SAFETY: sends SIGTERM to our own process; the main thread waits for it in sigwait.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGTERM);
    }
}

/// CPUs this process may run on (taskset, cgroup cpusets, Kubernetes CPU sets).
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it for pid 0 (this thread).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return vec![0];
        }
        let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect();
        if cpus.is_empty() {
            vec![0]
        } else {
            cpus
        }
    }
}

fn pin_to(cpu: usize) {
    // SAFETY: as above; pins the calling thread only.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn block_signals() -> libc::sigset_t {
    // SAFETY: signal mask manipulation on the calling thread, before any other thread exists.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        set
    }
}

fn random_hex(n: usize) -> String {
    use rand::Rng;
    let mut r = rand::thread_rng();
    (0..n).map(|_| format!("{:x}", r.gen_range(0..16))).collect()
}

/// What a shard thread reports once it has loaded its data.
struct Loaded {
    rdb: Option<LoadStats>,
    /// Shard 0's manifest of a new AOF layout, written by the main thread last.
    deferred_manifest: Option<(std::path::PathBuf, String)>,
    aof_commands: u64,
}

/// Runs the node until it is told to stop. Errors are startup errors, to print and exit 1.
pub fn run(cfg: Config, config_file: String) -> Result<(), String> {
    // Like Redis, relative paths (dump, AOF, nodes.conf) are relative to `dir`.
    std::env::set_current_dir(&cfg.dir).map_err(|e| format!("Can't chdir to '{}': {e}", cfg.dir.display()))?;
    let cpus = allowed_cpus();
    let nshards = if cfg.shards == 0 { cpus.len() } else { cfg.shards }.clamp(1, crate::limits::MAX_SHARDS);
    let sigset = block_signals();

    let addrs = crate::net::listen::parse_bind(&cfg.bind, cfg.port)?;
    let mut listeners: Vec<Vec<std::os::fd::OwnedFd>> = (0..nshards).map(|_| Vec::new()).collect();
    for (addr, optional) in &addrs {
        for l in listeners.iter_mut() {
            match crate::net::listen::bind_reuseport(*addr, cfg.tcp_backlog as i32) {
                Ok(fd) => l.push(fd),
                Err(e) if *optional => {
                    log::verbose(&format!("Skipping optional bind address {addr}: {e}"));
                    break;
                }
                Err(e) => return Err(format!("Could not create server TCP listening socket {addr}: {e}")),
            }
        }
    }
    if listeners.iter().all(|l| l.is_empty()) {
        return Err("Failed listening on any bind address".into());
    }

    let cluster_state = if cfg.cluster_enabled {
        let state = crate::cluster::state::ClusterState::load_or_create(&cfg)?;
        Some(Box::new(crate::cluster::bus::Bus::new(state, rand::random())))
    } else {
        None
    };
    // The cluster bus listens on shard 0 only; failing to bind it is a startup error.
    let mut bus_listeners = Vec::new();
    if cfg.cluster_enabled {
        let bus_port = cfg.cluster_bus_port().ok_or("The cluster bus port (port + 10000) is out of range")?;
        for (addr, optional) in crate::net::listen::parse_bind(&cfg.bind, bus_port)? {
            match crate::net::listen::bind_reuseport(addr, cfg.tcp_backlog as i32) {
                Ok(fd) => bus_listeners.push(fd),
                Err(e) if optional => log::verbose(&format!("Skipping optional cluster bus address {addr}: {e}")),
                Err(e) => return Err(format!("Could not create the cluster bus listening socket {addr}: {e}")),
            }
        }
    }
    let view = Arc::new(cluster_state.as_ref().map(|s| s.view()).unwrap_or_else(ClusterView::standalone));

    let node = Arc::new(NodeInfo {
        run_id: random_hex(40),
        started: std::time::Instant::now(),
        started_unix_s: crate::shard::unix_ms() / 1000,
        nshards,
        tcp_port: cfg.port,
        pid: std::process::id(),
        executable: std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
        config_file,
        connected_clients: AtomicUsize::new(0),
        total_connections_received: AtomicU64::new(0),
        rejected_connections: AtomicU64::new(0),
        next_client_id: AtomicU64::new(1),
        shutdown: AtomicBool::new(false),
        shard_used_bytes: (0..nshards).map(|_| AtomicI64::new(0)).collect(),
    });

    log::notice(&format!(
        "Tessera {} starting: mode={}, port={}, shards={}, pid={}",
        env!("CARGO_PKG_VERSION"),
        if cfg.cluster_enabled { "cluster" } else { "standalone" },
        cfg.port,
        nshards,
        node.pid
    ));

    crate::persist::status::init(nshards, node.started_unix_s);
    // With appendonly on, the AOF alone is the data (as in Redis); otherwise the dump file.
    // A bad file stops startup here or while the shards load, before any shard serves.
    let aof_plan = if cfg.appendonly { Some(crate::persist::aof::startup::plan(&cfg)?) } else { None };
    let load_started = std::time::Instant::now();
    let mut dump = if aof_plan.is_none() { crate::persist::load::open_dump(&cfg)?.map(Arc::new) } else { None };

    let ports = build_mesh(nshards).map_err(|e| format!("Could not create the shard mesh: {e}"))?;
    let peers = ports[0].peers.clone();
    let mut cluster_state = cluster_state;
    let mut threads = Vec::new();
    // Shards load their share of the dump in parallel, then wait for `go`: none serves until
    // all have loaded.
    let mut starting = Vec::new();
    for (id, (port, ls)) in ports.into_iter().zip(listeners).enumerate() {
        let cfg = cfg.clone();
        let node = node.clone();
        let view = view.clone();
        let cpu = cpus[id % cpus.len()];
        let cstate = if id == 0 { cluster_state.take() } else { None };
        let bus_ls = if id == 0 { std::mem::take(&mut bus_listeners) } else { Vec::new() };
        let dump = dump.clone();
        let aof_plan = aof_plan.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<Loaded, String>>();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::Builder::new()
            .name(format!("shard-{id}"))
            .spawn(move || {
                pin_to(cpu);
                // Loaded keys are this shard's memory: count them on this thread.
                crate::store::memory::enter_shard_thread();
                // This thread's dbs keep the slots shard `id` owns densely.
                crate::store::slot_dir::set_thread_layout(id, nshards);
                let mut store = Store::new(cfg.databases);
                let loaded =
                    match dump.as_deref().map(|d| crate::persist::load::load_into(d, id, nshards, &cfg, &mut store)) {
                        Some(Err(e)) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                        Some(Ok(stats)) => Some(stats),
                        None => None,
                    };
                drop(dump);
                let mut aof = None;
                let mut deferred_manifest = None;
                let mut aof_keys = 0;
                if let Some(plan) = aof_plan.as_deref() {
                    match crate::persist::aof::startup::load_shard(plan, id, nshards, &cfg, &mut store) {
                        Ok(o) => {
                            aof = Some(Box::new(o.aof));
                            deferred_manifest = o.deferred_manifest;
                            aof_keys = o.keys_loaded;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    }
                }
                let st = ShardState {
                    id,
                    nshards,
                    node,
                    store,
                    stats: ShardStats::default(),
                    handle: Handle::new(id, nshards),
                    rng: <rand::rngs::SmallRng as rand::SeedableRng>::from_entropy(),
                    cluster: view,
                    clients: slab::Slab::new(),
                    frozen_by: None,
                    freeze_depth: 0,
                    tx_step_durable: false,
                    watches: Default::default(),
                    watch_dirty: Default::default(),
                    pubsub: Default::default(),
                    active_expire: true,
                    kill_requests: Vec::new(),
                    blocking: Default::default(),
                    cluster_state: cstate,
                    bus_actions: Vec::new(),
                    aof,
                    evict_pool: Default::default(),
                    snapshot_job: None,
                    wake: port.peers.get(id).cloned(),
                    cfg,
                };
                match Loop::new(st, port, ls) {
                    Ok(mut l) => {
                        l.set_bus_listeners(bus_ls);
                        let _ = ready_tx.send(Ok(Loaded { rdb: loaded, deferred_manifest, aof_commands: aof_keys }));
                        if go_rx.recv().is_ok() {
                            l.run();
                        }
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("shard {id}: could not set up io_uring: {e}")));
                    }
                }
            })
            .map_err(|e| format!("Could not start shard thread: {e}"))?;
        starting.push((ready_rx, go_tx));
        threads.push(t);
    }
    let mut load_stats = Vec::new();
    let mut deferred = None;
    let mut aof_commands = 0;
    for (id, (ready_rx, _)) in starting.iter().enumerate() {
        match ready_rx.recv() {
            Ok(Ok(l)) => {
                load_stats.extend(l.rdb);
                deferred = deferred.or(l.deferred_manifest);
                aof_commands += l.aof_commands;
            }
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(format!("shard {id} exited during startup")),
        }
    }
    if let Some(d) = dump.take() {
        crate::persist::load::finish(&d, &load_stats);
    }
    if let Some(plan) = aof_plan.as_deref() {
        crate::persist::aof::startup::commit_layout(plan, nshards, deferred)?;
        if plan.layout.is_some() {
            log::notice(&format!(
                "DB loaded from append only file: {:.3} seconds ({aof_commands} records)",
                load_started.elapsed().as_secs_f64()
            ));
        }
    }
    for (_, go_tx) in &starting {
        let _ = go_tx.send(());
    }
    log::notice("Ready to accept connections tcp");

    // Wait for SIGTERM/SIGINT (SHUTDOWN raises SIGTERM too). A signal with save points set
    // saves first, as Redis does; if that fails the node keeps running, as Redis's does.
    loop {
        let mut sig: libc::c_int = 0;
        // SAFETY: sigwait on the set blocked above.
        unsafe {
            libc::sigwait(&sigset, &mut sig);
        }
        if USER_SHUTDOWN.load(Ordering::SeqCst) {
            // SHUTDOWN already saved (or was told not to).
            log::warning("User requested shutdown...");
            break;
        }
        let name = if sig == libc::SIGINT { "SIGINT" } else { "SIGTERM" };
        log::warning(&format!("Received {name} scheduling shutdown..."));
        match crate::persist::snapshot::save_on_signal(&peers, &node) {
            Ok(_) => break,
            Err(e) => {
                log::warning(&format!("Error trying to save the DB, can't exit: {e}"));
                log::warning(&format!(
                    "{name} received but errors trying to shut down the server, check the logs for more information"
                ));
            }
        }
    }
    node.shutdown.store(true, Ordering::SeqCst);
    for p in &peers {
        let _ = p.send(MeshMsg::Shutdown);
        p.wake();
    }
    for t in threads {
        let _ = t.join();
    }
    log::warning("Tessera is now ready to exit, bye bye...");
    Ok(())
}

/// Per-shard periodic work, called `hz` times a second from the loop.
pub fn cron(st: &mut ShardState) {
    crate::persist::snapshot::cron(st);
    crate::command::family::cluster::cron(st);
    st.node.shard_used_bytes[st.id].store(crate::store::memory::thread_used_bytes(), Ordering::Relaxed);
    if !st.active_expire || st.frozen_by.is_some() {
        return;
    }
    st.enforce_maxmemory();
    // Active expiry: the TTL index is ordered, so each round removes exactly the due keys,
    // bounded by a time budget per tick as Redis's slow cycle (25% of a tick at hz 10).
    let start = std::time::Instant::now();
    let now = st.now_ms();
    let budget_us = crate::limits::ACTIVE_EXPIRE_CYCLE_BUDGET_US * 10 / st.cfg.hz.max(1) as u64;
    for db in st.store.dbs.iter_mut() {
        loop {
            let (_, more) = db.expire_due(now, crate::limits::ACTIVE_EXPIRE_KEYS_PER_LOOP);
            if !more || start.elapsed().as_micros() as u64 > budget_us {
                break;
            }
        }
    }
}
