//! Fleet mode: the table.

use super::*;

pub(crate) fn fleet_mode(cfg: &Cfg) {
    let max = cfg.sizes.iter().copied().max().unwrap_or(1000);
    // Enough lab hosts that the largest size still has `max` after the mix filter (2 % filtered).
    let lab_hosts = max + max / 40 + 16;
    std::fs::create_dir_all(&cfg.out).expect("create FLEET_OUT");
    println!(
        "fleet: {} x {} (nproc {}), load {}; sizes {:?}, depths {:?}, concurrency {}, runs {}, mix {:?}, key {}, CA {}, certs {}, connect timeout {}",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        cfg.sizes,
        cfg.depths,
        cfg.concurrency,
        cfg.runs,
        cfg.mix,
        cfg.key,
        cfg.ca,
        if cfg.self_signed {
            "self-signed, IP targets, default DNS settings"
        } else {
            "lab CA (--ca-bundle)"
        },
        cfg.connect_timeout
    );
    let per = env_num(
        "FLEET_LAB_HOSTS_PER_PROCESS",
        hosts_per_lab(cfg.concurrency),
    );
    let mut lab = Labs::start(lab_hosts, cfg.base, (&cfg.key, &cfg.ca), &cfg.out, per);
    let all: Vec<InvRow> = lab
        .inventory
        .iter()
        .filter(|r| keep(r, cfg.mix))
        .cloned()
        .collect();

    // Warm-up: the lab makes each host's certificate on its first TLS connection.
    let warm_inv = cfg.out.join("inv-warm.csv");
    write_inventory(all.get(..max.min(all.len())).unwrap_or(&all), &warm_inv);
    let warm = run_bare(cfg, &mut lab, &warm_inv, max.min(all.len()));
    println!(
        "fleet: warm-up (bare loop, lab certificates made on first use) over {} hosts: {:.0} hosts/s, lab CPU {:.0} us/host",
        warm.hosts,
        warm.hosts_per_s(),
        warm.lab_us_per_host()
    );

    let mut results: BTreeMap<(usize, String), Vec<RunStats>> = BTreeMap::new();
    for run in 1..=cfg.runs {
        for &n in &cfg.sizes {
            let rows = all.get(..n.min(all.len())).unwrap_or(&all);
            let n = rows.len();
            let inv = cfg.out.join(format!("inv-{n}.csv"));
            write_inventory(rows, &inv);
            let mut tools: Vec<String> = Vec::new();
            if cfg.bare {
                tools.push("bare".into());
            }
            let bins = scanner_bins();
            for d in &cfg.depths {
                for (name, _) in &bins {
                    tools.push(if name.is_empty() {
                        d.clone()
                    } else {
                        format!("{d}@{name}")
                    });
                }
            }
            for tool in tools {
                let st = if tool == "bare" {
                    run_bare(cfg, &mut lab, &inv, n)
                } else {
                    run_scan(cfg, &mut lab, &inv, n, &tool, &cfg.out)
                };
                eprintln!(
                    "fleet: run {run} {n:>6} {tool:<8} {:>7.0} hosts/s  {:>6.0} us CPU/host  RSS {:>5.1} MiB  lab {:>4.0} us/host  DNS {:>5.0} q/s  (load {})",
                    st.hosts_per_s(),
                    st.cpu_us_per_host(),
                    st.max_rss_kib as f64 / 1024.0,
                    st.lab_us_per_host(),
                    st.dns_per_s(),
                    st.load
                );
                results.entry((n, tool)).or_default().push(st);
            }
        }
    }
    lab.stop();
    print_table(cfg, &results);
}

pub(crate) fn print_table(cfg: &Cfg, results: &BTreeMap<(usize, String), Vec<RunStats>>) {
    println!();
    println!(
        "| hosts | tool | hosts/s best [min-max] | % of bare | conn/host | p50 / p99 ms | peak RSS MiB | CPU s / 1k hosts (best) | lab CPU s / 1k hosts | CPU x bare | DNS queries/s | load at start |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for ((n, tool), runs) in results {
        let best = runs
            .iter()
            .max_by(|a, b| a.hosts_per_s().total_cmp(&b.hosts_per_s()))
            .expect("at least one run");
        let lo = runs
            .iter()
            .map(RunStats::hosts_per_s)
            .fold(f64::MAX, f64::min);
        let hi = runs.iter().map(RunStats::hosts_per_s).fold(0.0, f64::max);
        let cpu = runs
            .iter()
            .map(RunStats::cpu_us_per_host)
            .fold(f64::MAX, f64::min);
        let rss = runs.iter().map(|r| r.max_rss_kib).max().unwrap_or(0);
        let lab = runs
            .iter()
            .map(RunStats::lab_us_per_host)
            .fold(f64::MAX, f64::min);
        let vs_bare = results
            .get(&(*n, "bare".to_string()))
            .and_then(|b| b.iter().map(RunStats::hosts_per_s).reduce(f64::max))
            .map(|b| format!("{:.0} %", 100.0 * hi / b.max(1e-9)))
            .unwrap_or_else(|| "-".into());
        let cpu_vs_bare = results
            .get(&(*n, "bare".to_string()))
            .and_then(|b| b.iter().map(RunStats::cpu_us_per_host).reduce(f64::min))
            .map(|b| format!("{:.2}", cpu / b.max(1e-9)))
            .unwrap_or_else(|| "-".into());
        println!(
            "| {n} | {tool} | {:.0} [{lo:.0}-{hi:.0}] | {vs_bare} | {:.2} | {:.1} / {:.1} | {:.1} | {:.3} | {:.3} | {cpu_vs_bare} | {:.0} | {} |",
            best.hosts_per_s(),
            best.conn_per_host(),
            best.p50_ms,
            best.p99_ms,
            rss as f64 / 1024.0,
            cpu / 1000.0,
            lab / 1000.0,
            best.dns_per_s(),
            best.load
        );
    }
    println!();
    for ((n, tool), runs) in results {
        if let Some(r) = runs.first() {
            let v: Vec<String> = r.verdicts.iter().map(|(k, c)| format!("{k} {c}")).collect();
            println!("outcomes {n} {tool}: {}", v.join(", "));
        }
    }
    println!(
        "\n(hosts/s = hosts / wall time of the whole process, start-up included; CPU = user+system of the \
         scanner or bare-loop process from wait4; lab CPU = the lab process over the same run; mix {:?})",
        cfg.mix
    );
}
