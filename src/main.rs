//! The `qingling` command: parse the command line, start logging, call into the library.

fn main() -> std::process::ExitCode {
    qingling::cli::main()
}
