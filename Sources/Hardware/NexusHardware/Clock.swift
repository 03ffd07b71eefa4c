#if canImport(Glibc)
internal import Glibc
#endif

/// A point on the monotonic clock, in nanoseconds. GPIO edge timestamps use the same clock.
public struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }

    public static func + (a: Instant, d: Duration) -> Instant {
        let ns = d.nanosecondsClamped
        return ns >= 0 ? Instant(nanoseconds: a.nanoseconds &+ UInt64(ns))
                       : Instant(nanoseconds: a.nanoseconds &- min(a.nanoseconds, UInt64(-ns)))
    }

    /// The time from `earlier` to self (zero if earlier is later).
    public func since(_ earlier: Instant) -> Duration {
        self >= earlier ? .nanoseconds(Int64(clamping: nanoseconds - earlier.nanoseconds)) : .zero
    }

    public var description: String { "\(Double(nanoseconds) / 1e9)s" }
}

extension Duration {
    /// Whole nanoseconds, clamped to Int64.
    public var nanosecondsClamped: Int64 {
        let (s, attos) = components
        let (ns, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return s < 0 ? .min : .max }
        return ns &+ attos / 1_000_000_000
    }

    public var milliseconds: Int64 { nanosecondsClamped / 1_000_000 }
    public var seconds: Double { Double(nanosecondsClamped) / 1e9 }
}

/// The agent core's view of time, so that tests can drive it.
public protocol MonotonicClock: AnyObject {
    var now: Instant { get }
}

/// CLOCK_MONOTONIC.
public final class SystemClock: MonotonicClock {
    public init() {}
    public var now: Instant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }

    /// Wall-clock time in milliseconds since the Unix epoch, for timestamps in output.
    public static var wallMilliseconds: Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// A clock that only moves when told to.
public final class ManualClock: MonotonicClock {
    public var now: Instant
    public init(_ start: Instant = Instant(nanoseconds: 1_000_000_000)) { now = start }
    public func advance(_ d: Duration) { now = now + d }
}
