public import NexusFleet
internal import Synchronization

/// The fleet model behind a lock: the feed thread writes, HTTP handlers take snapshots.
/// Nothing here waits on I/O, so a scheduler call is answered from memory at once.
public final class FleetStore: Sendable {
    private let state = Mutex(State())

    struct State {
        var fleet = Fleet()
        var feedConnected = false
        var lastMessageMs: Int64 = 0
    }

    public init() {}

    public func ingest(topic: String, payload: [UInt8], nowMs: Int64) {
        state.withLock {
            $0.fleet.ingest(topic: topic, payload: payload, nowMs: nowMs)
            $0.lastMessageMs = nowMs
        }
    }

    /// What the database remembered, before the feed says anything.
    public func restore(_ records: [NodeRecord]) {
        state.withLock { $0.fleet.restore(records) }
    }

    public func setFeedConnected(_ connected: Bool) {
        state.withLock { $0.feedConnected = connected }
    }

    public struct Snapshot: Sendable {
        public var nodes: [String: NodeRecord]
        public var feedConnected: Bool
        public var lastMessageMs: Int64
        public var rejectedMessages: Int

        /// Whether the coordinator's own feed is working: connected, and heard from within
        /// `staleAfterMs`. While it is not, nodes are not held stale and no decision is made.
        public func feedIsFresh(nowMs: Int64, staleAfterMs: Int64) -> Bool {
            feedConnected && nowMs - lastMessageMs < staleAfterMs
        }
    }

    public func snapshot() -> Snapshot {
        state.withLock { Snapshot(nodes: $0.fleet.nodes, feedConnected: $0.feedConnected,
                                  lastMessageMs: $0.lastMessageMs, rejectedMessages: $0.fleet.rejected) }
    }
}
