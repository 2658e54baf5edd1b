//! Top-level dispatch from parsed flags to subcommands.
pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
