//! `rdpsweep demo`: start the simulated fleet on loopback, scan it, write every report into a
//! folder. Needs the `lab` feature (on by default).

use std::process::ExitCode;

use crate::cli::DemoArgs;

#[cfg(not(feature = "lab"))]
pub fn run(_args: &DemoArgs) -> ExitCode {
    super::setup_error(super::lab::WITHOUT_LAB)
}

#[cfg(feature = "lab")]
pub fn run(args: &DemoArgs) -> ExitCode {
    use super::{
        exit_code, init_tracing, install_signal_handlers, print_summary, runtime_or_exit,
        setup_error,
    };
    use crate::cli::FailOn;
    use crate::lab::{Lab, LabConfig};

    init_tracing(args.quiet, 0);
    let rt = match runtime_or_exit() {
        Ok(r) => r,
        Err(code) => return code,
    };
    rt.block_on(async {
        if let Err(e) = std::fs::create_dir_all(&args.out) {
            return setup_error(format!("cannot create {}: {e}", args.out.display()));
        }
        let cfg = LabConfig {
            base: args.base,
            port: 3389,
            dns: true,
        };
        let lab = match Lab::start(cfg, Lab::demo_fleet()).await {
            Ok(l) => l,
            Err(e) => {
                return setup_error(format!(
                    "cannot start the simulated fleet on {}: {e}",
                    args.base
                ));
            }
        };
        let inv = args.out.join("lab-inventory.csv");
        let ca = args.out.join("lab-ca.pem");
        if let Err(e) =
            std::fs::write(&inv, lab.inventory_csv()).and_then(|_| std::fs::write(&ca, &lab.ca_pem))
        {
            return setup_error(format!("cannot write into {}: {e}", args.out.display()));
        }
        let mut cfg = lab_scan_config(&lab, &inv, &ca, &args.out);
        cfg.outputs.csv_format = match args.csv_format.format() {
            Ok(f) => f,
            Err(e) => return setup_error(e),
        };
        let cancel = install_signal_handlers();
        let res = super::scan::scan(&cfg, cancel).await;
        lab.shutdown().await;
        match res {
            Ok(out) => {
                if !args.quiet {
                    print_summary(&out, &[]);
                    eprintln!("rdpsweep: demo reports in {}:", args.out.display());
                    for f in [
                        "rdpsweep.html",
                        "rdpsweep.csv",
                        "rdpsweep.jsonl",
                        "lab-inventory.csv",
                    ] {
                        eprintln!("  {}", args.out.join(f).display());
                    }
                }
                // The demo's findings are planted: only a failed write or an interrupt is an error.
                exit_code(FailOn::Never, &out)
            }
            Err(e) => setup_error(e),
        }
    })
}

/// A config for scanning the lab: fast timeouts, the lab's DNS and CA, every report in `out`.
#[cfg(feature = "lab")]
fn lab_scan_config(
    lab: &crate::lab::Lab,
    inventory: &std::path::Path,
    ca: &std::path::Path,
    out: &std::path::Path,
) -> crate::config::ScanConfig {
    use std::time::Duration;

    use crate::cli::FailOn;
    use crate::config::{InventoryConfig, Outputs, ScanConfig};
    use crate::diagnose::Policy;
    use crate::inventory::InventoryOptions;
    use crate::probe::{Depth, ProbeOptions};
    use crate::report::Output;
    use crate::resolve::ResolverOptions;

    ScanConfig {
        inventory: InventoryConfig {
            cli_targets: vec![],
            inventories: vec![inventory.to_path_buf()],
            options: InventoryOptions {
                default_port: 3389,
                max_targets: 65_536,
                skip_bad_lines: false,
            },
            shard: None,
        },
        resolver: ResolverOptions {
            servers: lab.dns_addr.into_iter().collect(),
            pins: vec![],
            timeout: Duration::from_secs(1),
            attempts: 2,
            rate: 0,
            ptr_rate: 0,
            ptr: true,
        },
        probe: ProbeOptions {
            depth: Depth::Standard,
            connect_timeout: Duration::from_millis(1500),
            timeout: Duration::from_secs(2),
            host_deadline: Duration::from_secs(15),
            host_spacing: Duration::from_millis(20),
            retries: 0,
            rate: 0,
            // The `--alive-ports` default: the lab's filtered hosts show the companion evidence.
            alive_ports: vec![445, 135],
            check_revocation: false,
            // The `--udp` default at standard depth: the lab's UDP hosts answer, stay silent or
            // have no UDP socket.
            udp: true,
        },
        ca_bundle: Some(ca.to_path_buf()),
        policy: Policy {
            expiry_warn_days: 30,
            ..Policy::default()
        },
        concurrency: 64,
        run_id: None,
        outputs: Outputs {
            csv: Some(Output::File(out.join("rdpsweep.csv"))),
            jsonl: Some(Output::File(out.join("rdpsweep.jsonl"))),
            html: Some(Output::File(out.join("rdpsweep.html"))),
            metrics: None,
            metrics_push: None,
            csv_format: crate::report::csv::CsvFormat::default(),
        },
        baseline: None,
        fail_on: FailOn::Never,
        open_only: false,
        quiet: true,
        verbose: 0,
    }
}
