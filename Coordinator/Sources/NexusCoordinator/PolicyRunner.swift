public import NexusPolicy
internal import Synchronization

/// The power policy on the fleet, every few seconds, off the request path. Decisions are
/// kept (the last 500) for /v1/decisions and counted for /metrics.
public final class PolicyRunner: Sendable {
    struct State {
        var policy: PowerPolicy
        var decisions: [Decision]
        var counts: [Decision.Action: Int] = [:]
        /// Why nothing is decided here although the policy is on (another replica leads).
        var standingBy: String?
        /// The cluster as last read (protected nodes), for operator requests.
        var cluster = ClusterFacts()
    }
    private let state: Mutex<State>
    static let keep = 500

    public init(settings: PolicySettings, history: [Decision] = []) {
        state = Mutex(State(policy: PowerPolicy(settings: settings), decisions: Array(history.suffix(Self.keep))))
    }

    public var settings: PolicySettings { state.withLock { $0.policy.settings } }

    /// One round on the feed's own states; publishes what is under way to the store for
    /// the extender and the node marks. `leader` false (another replica leads): no
    /// decision, and nothing under way here.
    public func step(_ store: FleetStore, nowMs: Int64, cluster: ClusterFacts = ClusterFacts(),
                     leader: (Bool, String?) = (true, nil)) -> [Decision] {
        let s = store.snapshot(raw: true)
        let (new, transitions) = state.withLock { st -> ([Decision], [String: String]) in
            guard leader.0 else {
                st.standingBy = "standing by: " + (leader.1.map { "\($0) leads" } ?? "not the leader")
                return ([], [:])
            }
            st.standingBy = nil
            st.cluster = cluster
            let fresh = s.feedIsFresh(nowMs: nowMs, staleAfterMs: st.policy.settings.staleMs)
            let new = st.policy.evaluate(s.nodes, nowMs: nowMs, feedFresh: fresh, cluster: cluster)
            Self.keep(new, in: &st)
            return (new, st.policy.inFlight.mapValues(\.action.rawValue))
        }
        store.setTransitions(transitions)
        return new
    }

    /// No round this time, and why (the Kubernetes API does not answer): shown in
    /// /v1/decisions until the next round.
    public func pause(_ why: String) {
        state.withLock { $0.standingBy = why }
    }

    /// An operator's sleep or wake (the API's signed commands): recorded with the policy's
    /// own decisions and in flight from now on; the caller hands it to the actuator.
    public func request(_ action: Decision.Action, node: String, by who: String, store: FleetStore,
                        nowMs: Int64) throws(PowerPolicy.Refusal) -> Decision {
        let s = store.snapshot(raw: true)
        let (d, transitions) = try state.withLock { st throws(PowerPolicy.Refusal) -> (Decision, [String: String]) in
            // Another replica leads, or the cluster's protections are unknown: not here, not now.
            if let why = st.standingBy { throw PowerPolicy.Refusal(reason: why) }
            let d = try st.policy.request(action, node: node, by: who, nodes: s.nodes, nowMs: nowMs, cluster: st.cluster)
            Self.keep([d], in: &st)
            return (d, st.policy.inFlight.mapValues(\.action.rawValue))
        }
        store.setTransitions(transitions)
        return d
    }

    /// A sleep the actuator could not carry out (the drain): recorded, and the node left
    /// alone for a while.
    public func abortSleep(_ node: String, reason: String, nowMs: Int64, store: FleetStore) -> Decision? {
        let (d, transitions) = state.withLock { st -> (Decision?, [String: String]) in
            let d = st.policy.abortSleep(node, reason: reason, nowMs: nowMs)
            if let d { Self.keep([d], in: &st) }
            return (d, st.policy.inFlight.mapValues(\.action.rawValue))
        }
        store.setTransitions(transitions)
        return d
    }

    private static func keep(_ new: [Decision], in st: inout State) {
        st.decisions += new
        for d in new { st.counts[d.action, default: 0] += 1 }
        if st.decisions.count > keep { st.decisions.removeFirst(st.decisions.count - keep) }
    }

    public struct Report: Sendable {
        public var mode: PolicySettings.Mode
        public var holding: String?
        public var inFlight: [(node: String, action: String, sinceMs: Int64, tried: [WakeRoute])]
        public var decisions: [Decision]
        /// Decisions made since the start, by action.
        public var counts: [Decision.Action: Int]
    }

    public func report() -> Report {
        state.withLock {
            Report(mode: $0.policy.settings.mode, holding: $0.standingBy ?? $0.policy.holding,
                   inFlight: $0.policy.inFlight.sorted { $0.key < $1.key }.map { ($0.key, $0.value.action.rawValue, $0.value.sinceMs, $0.value.tried) },
                   decisions: $0.decisions, counts: $0.counts)
        }
    }
}
