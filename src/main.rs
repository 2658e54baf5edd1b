fn main() -> std::process::ExitCode {
    rdpsweep::run::main()
}
