public import NexusFleet
internal import Synchronization

/// The fleet's power over the last hour, in memory, for the fleet page's chart: one point
/// every `intervalMs` with each node's watts (nil: no reading, or asleep with none). The
/// database keeps the long history (a reading a minute); this is the live view.
public final class PowerHistory: Sendable {
    public struct Point: Equatable, Sendable {
        public var atMs: Int64
        public var watts: [String: Double]
        public var total: Double { watts.values.reduce(0, +) }
    }

    public let intervalMs: Int64
    public let capacity: Int
    private let points = Mutex<[Point]>([])

    public init(intervalMs: Int64 = 5_000, capacity: Int = 720) {
        self.intervalMs = intervalMs
        self.capacity = capacity
    }

    /// One point from a snapshot. A node that is asleep or gone counts its board's halted
    /// draw when it has one (a sleeping Pi still draws a little), else nothing.
    public func record(_ s: FleetStore.Snapshot, nowMs: Int64, staleAfterMs: Int64) {
        var watts: [String: Double] = [:]
        for r in s.nodes.values {
            if r.state == "sleeping" || r.state == "offline" {
                if let h = r.haltedWatts { watts[r.name] = h }
            } else if let w = r.watts, nowMs - r.lastSeenMs < staleAfterMs {
                watts[r.name] = w
            }
        }
        points.withLock {
            $0.append(Point(atMs: nowMs, watts: watts))
            if $0.count > capacity { $0.removeFirst($0.count - capacity) }
        }
    }

    public func snapshot(sinceMs: Int64 = 0) -> [Point] {
        points.withLock { $0.filter { $0.atMs > sinceMs } }
    }
}
