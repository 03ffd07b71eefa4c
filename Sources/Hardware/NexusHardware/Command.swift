#if canImport(Glibc)
internal import Glibc
#endif

/// Runs a program directly (posix_spawnp: no shell, so nothing received is ever
/// interpolated), with the default signal mask and dispositions restored: the agent's
/// event loop blocks SIGTERM and friends, and a child must not inherit that.
public enum Command {
    public enum Outcome: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)
        /// Still running after the timeout (it is left to finish; power-off commands may
        /// never return).
        case running(pid: Int32)
    }

    public static func run(_ argv: [String], timeout: Duration) -> Result<Outcome, HardwareError> {
        guard let program = argv.first, !program.isEmpty else {
            return .failure(HardwareError(.open, device: "(empty command)", errno: .invalidArgument))
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let r = posix_spawnp(&pid, program, nil, &attr, cArgs, environ)
        guard r == 0 else {
            return .failure(HardwareError(.open, device: program, errno: Errno(rawValue: r)))
        }
        let deadline = SystemClock().now + timeout
        var status: Int32 = 0
        while true {
            let w = waitpid(pid, &status, WNOHANG)
            if w == pid { break }
            if w < 0 && errno != EINTR { return .failure(HardwareError(.read, device: program, errno: .current)) }
            if SystemClock().now >= deadline { return .success(.running(pid: pid)) }
            usleep(20_000)
        }
        // WIFEXITED / WEXITSTATUS are macros: decode by hand.
        if status & 0x7F == 0 { return .success(.exited((status >> 8) & 0xFF)) }
        return .success(.signalled(status & 0x7F))
    }
}
