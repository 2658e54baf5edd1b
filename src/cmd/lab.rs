//! `rdpsweep lab`: serve the simulated fleet on loopback until interrupted (benchmarks,
//! experiments). Needs the `lab` feature (on by default).

use std::process::ExitCode;

use crate::cli::LabArgs;

/// What `demo` and `lab` say in a build without the simulated fleet.
#[cfg(not(feature = "lab"))]
pub(super) const WITHOUT_LAB: &str = "this rdpsweep was built without the `lab` feature, so `demo` and `lab` (the simulated fleet) are not available; rebuild with default features to use them";

#[cfg(not(feature = "lab"))]
pub fn run(_args: &LabArgs) -> ExitCode {
    super::setup_error(WITHOUT_LAB)
}

#[cfg(feature = "lab")]
pub fn run(args: &LabArgs) -> ExitCode {
    use std::path::PathBuf;

    use super::{init_tracing, runtime_or_exit, setup_error};
    use crate::lab::{Lab, LabConfig, LabKeys};

    init_tracing(false, 0);
    let rt = match runtime_or_exit() {
        Ok(r) => r,
        Err(code) => return code,
    };
    rt.block_on(async {
        let lab = if args.hosts == 0 {
            let cfg = LabConfig {
                base: args.base,
                port: args.port,
                dns: true,
            };
            Lab::start(cfg, Lab::demo_fleet()).await
        } else {
            let keys = LabKeys {
                ca: args.ca_key,
                leaf: args.leaf_key,
            };
            Lab::scale_with_keys(args.hosts, args.base, args.port, keys).await
        };
        let lab = match lab {
            Ok(l) => l,
            Err(e) => return setup_error(format!("cannot start the simulated fleet: {e}")),
        };
        let inv: PathBuf = args
            .inventory
            .clone()
            .unwrap_or_else(|| PathBuf::from("lab-inventory.csv"));
        if let Err(e) = std::fs::write(&inv, lab.inventory_csv()) {
            return setup_error(format!("cannot write {}: {e}", inv.display()));
        }
        if let Some(ca) = &args.ca_out
            && let Err(e) = std::fs::write(ca, &lab.ca_pem)
        {
            return setup_error(format!("cannot write {}: {e}", ca.display()));
        }
        eprintln!(
            "rdpsweep lab: {} hosts from {} port {}; DNS {}; inventory {}; Ctrl-C to stop",
            lab.hosts.len(),
            args.base,
            args.port,
            lab.dns_addr
                .map(|a| a.to_string())
                .unwrap_or_else(|| "off".into()),
            inv.display()
        );
        let _ = tokio::signal::ctrl_c().await;
        lab.shutdown().await;
        ExitCode::SUCCESS
    })
}
