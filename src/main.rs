fn main() -> std::process::ExitCode {
    rdpsweep::cmd::main()
}
