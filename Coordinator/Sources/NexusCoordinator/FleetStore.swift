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
        /// Feed messages taken in since the start.
        var messages: Int64 = 0
        /// node → the transition the coordinator has under way (sleep or wake).
        var transitions: [String: String] = [:]
    }

    public init() {}

    public func ingest(topic: String, payload: [UInt8], nowMs: Int64) {
        state.withLock {
            $0.fleet.ingest(topic: topic, payload: payload, nowMs: nowMs)
            $0.lastMessageMs = nowMs
            $0.messages += 1
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
        public var messages: Int64 = 0

        /// Whether the coordinator's own feed is working: connected, and heard from within
        /// `staleAfterMs`. While it is not, nodes are not held stale and no decision is made.
        public func feedIsFresh(nowMs: Int64, staleAfterMs: Int64) -> Bool {
            feedConnected && nowMs - lastMessageMs < staleAfterMs
        }
    }

    /// The fleet's latest events (oldest first), of one node or all, after `sinceMs`.
    public func events(node: String? = nil, sinceMs: Int64 = 0) -> [FleetEvent] {
        state.withLock { st in st.fleet.events.filter { ($0.atMs > sinceMs) && (node == nil || $0.node == node) } }
    }

    /// What the power policy has under way, so that everyone else sees it: a node being
    /// drained for sleep reads `draining` even before its agent says so (the extender
    /// stops placing pods on it: that is the cordon), a node being woken reads `waking`.
    public func setTransitions(_ t: [String: String]) {
        state.withLock { $0.transitions = t }
    }

    /// The fleet as everyone but the policy sees it: with the transitions laid over the
    /// feed's states. `raw` gives the feed's states alone (the policy decides on those).
    public func snapshot(raw: Bool = false) -> Snapshot {
        state.withLock {
            var nodes = $0.fleet.nodes
            if !raw {
                for (name, action) in $0.transitions {
                    switch (action, nodes[name]?.state) {
                    case ("sleep", "awake"?): nodes[name]?.state = "draining"
                    case ("wake", "sleeping"?), ("wake", "offline"?): nodes[name]?.state = "waking"
                    default: break
                    }
                }
            }
            return Snapshot(nodes: nodes, feedConnected: $0.feedConnected, lastMessageMs: $0.lastMessageMs,
                            rejectedMessages: $0.fleet.rejected, messages: $0.messages)
        }
    }
}
