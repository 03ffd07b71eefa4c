#if canImport(Glibc)
internal import Glibc
#endif
internal import CLinux

/// The agent's one thread: a poll(2) over timerfds, a signalfd and device descriptors.
/// Handlers run on the loop's thread, one at a time; nothing else touches their state.
public final class EventLoop {
    public typealias Handler = () -> Void

    private struct Source {
        var fd: CInt
        var owned: Bool
        var handler: Handler
    }

    /// A descriptor that changes over time (a network client's socket across
    /// reconnects), asked for afresh before every poll, with interest in writability.
    private struct DynamicSource {
        var current: () -> (fd: CInt, wantsWrite: Bool)?
        var readable: Handler
        var writable: Handler
    }
    private var dynamicSources: [Int: DynamicSource] = [:]

    private var sources: [Int: Source] = [:]
    private var nextID = 0
    private var running = false

    public init() {}

    deinit {
        for s in sources.values where s.owned { close(s.fd) }
    }

    /// Calls `handler` whenever `fd` is readable. The loop does not own the descriptor.
    @discardableResult
    public func watch(_ fd: CInt, _ handler: @escaping Handler) -> Int {
        add(Source(fd: fd, owned: false, handler: handler))
    }

    public func unwatch(_ id: Int) {
        dynamicSources[id] = nil
        if let s = sources.removeValue(forKey: id), s.owned { close(s.fd) }
    }

    /// Polls whatever descriptor `current` returns (none: nil) for reading, and for
    /// writing while it asks to.
    @discardableResult
    public func watchDynamic(_ current: @escaping () -> (fd: CInt, wantsWrite: Bool)?,
                             readable: @escaping Handler, writable: @escaping Handler) -> Int {
        nextID += 1
        dynamicSources[nextID] = DynamicSource(current: current, readable: readable, writable: writable)
        return nextID
    }

    /// A timerfd-backed timer; arm it with `Timer.arm`.
    public func makeTimer(_ handler: @escaping Handler) throws(HardwareError) -> Timer {
        let fd = nexus_timerfd_create()
        guard fd >= 0 else { throw HardwareError(.timer, device: "timerfd", errno: .current) }
        let timer = Timer(fd: fd)
        let id = add(Source(fd: fd, owned: true, handler: { [unowned timer] in
            if timer.drain() { handler() }
        }))
        timer.id = id
        return timer
    }

    /// Blocks the signals for the whole process and delivers them here instead, so a
    /// SIGTERM is handled between two handlers, never in the middle of one.
    public func onSignals(_ signals: [CInt], _ handler: @escaping (CInt) -> Void) throws(HardwareError) {
        var mask = sigset_t()
        sigemptyset(&mask)
        for s in signals { sigaddset(&mask, s) }
        guard sigprocmask(SIG_BLOCK, &mask, nil) == 0 else {
            throw HardwareError(.signal, device: "sigprocmask", errno: .current)
        }
        let fd = nexus_signalfd(&mask)
        guard fd >= 0 else { throw HardwareError(.signal, device: "signalfd", errno: .current) }
        add(Source(fd: fd, owned: true, handler: {
            while case let signo = nexus_signalfd_read(fd), signo != 0 {
                handler(signo)
            }
        }))
    }

    /// Runs until `stop()` is called from a handler.
    public func run() throws(HardwareError) {
        running = true
        while running {
            let ids = Array(sources.keys).sorted()
            var fds = ids.compactMap { id in sources[id].map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) } }
            var dynamic: [(id: Int, index: Int)] = []
            for (id, d) in dynamicSources.sorted(by: { $0.key < $1.key }) {
                guard let (fd, wantsWrite) = d.current(), fd >= 0 else { continue }
                dynamic.append((id, fds.count))
                fds.append(pollfd(fd: fd, events: Int16(POLLIN) | (wantsWrite ? Int16(POLLOUT) : 0), revents: 0))
            }
            let n = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), -1) }
            if n < 0 {
                let e = Errno.current
                if e == .interrupted { continue }
                throw HardwareError(.poll, device: "poll", errno: e)
            }
            for (i, id) in ids.enumerated() where fds[i].revents != 0 {
                guard running else { break }
                // A handler may have removed this source.
                sources[id]?.handler()
            }
            for (id, index) in dynamic where fds[index].revents != 0 && running {
                let r = fds[index].revents
                if r & Int16(POLLOUT) != 0 { dynamicSources[id]?.writable() }
                if r & ~Int16(POLLOUT) != 0 { dynamicSources[id]?.readable() }
            }
        }
    }

    public func stop() { running = false }

    @discardableResult
    private func add(_ s: Source) -> Int {
        nextID += 1
        sources[nextID] = s
        return nextID
    }

    /// A timerfd. One-shot or periodic; re-arming replaces the previous setting.
    public final class Timer {
        let fd: CInt
        var id = 0
        init(fd: CInt) { self.fd = fd }

        /// Fires after `delay`, then every `interval` if given. A zero delay disarms
        /// in timerfd, so it is raised to 1 ns.
        public func arm(after delay: Duration, every interval: Duration? = nil) {
            _ = nexus_timerfd_settime(fd, max(delay, .nanoseconds(1)).nanosecondsClamped,
                                      interval?.nanosecondsClamped ?? 0)
        }

        public func disarm() {
            _ = nexus_timerfd_settime(fd, 0, 0)
        }

        /// Reads the expiry count; false when nothing had expired (spurious wake).
        func drain() -> Bool {
            var count: UInt64 = 0
            return read(fd, &count, 8) == 8 && count > 0
        }
    }
}

/// An eventfd: a descriptor that other code (a simulation, a test) can make readable.
public final class EventNotifier {
    public let fd: CInt
    public init() {
        fd = nexus_eventfd()
    }
    deinit { close(fd) }
    public func signal() {
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }
    /// Clears the pending count; true if anything was pending.
    @discardableResult
    public func drain() -> Bool {
        var count: UInt64 = 0
        return read(fd, &count, 8) == 8
    }
}

/// Signal numbers, so that modules above need not import Glibc.
public enum Signal {
    public static let terminate: CInt = SIGTERM
    public static let interrupt: CInt = SIGINT
    public static let hangup: CInt = SIGHUP
}
