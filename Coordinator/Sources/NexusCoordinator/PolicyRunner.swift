public import NexusPolicy
internal import Synchronization

/// The power policy on the fleet, every few seconds, off the request path. Decisions are
/// kept (the last 500) for /v1/decisions and logged.
public final class PolicyRunner: Sendable {
    private let state: Mutex<(policy: PowerPolicy, decisions: [Decision])>
    static let keep = 500

    public init(settings: PolicySettings, history: [Decision] = []) {
        state = Mutex((PowerPolicy(settings: settings), Array(history.suffix(Self.keep))))
    }

    public var settings: PolicySettings { state.withLock { $0.policy.settings } }

    /// One round; returns the new decisions.
    public func step(_ s: FleetStore.Snapshot, nowMs: Int64) -> [Decision] {
        state.withLock {
            let fresh = s.feedIsFresh(nowMs: nowMs, staleAfterMs: $0.policy.settings.staleMs)
            let new = $0.policy.evaluate(s.nodes, nowMs: nowMs, feedFresh: fresh)
            $0.decisions += new
            if $0.decisions.count > Self.keep { $0.decisions.removeFirst($0.decisions.count - Self.keep) }
            return new
        }
    }

    public struct Report: Sendable {
        public var mode: PolicySettings.Mode
        public var holding: String?
        public var inFlight: [(node: String, action: String, sinceMs: Int64)]
        public var decisions: [Decision]
    }

    public func report() -> Report {
        state.withLock {
            Report(mode: $0.policy.settings.mode, holding: $0.policy.holding,
                   inFlight: $0.policy.inFlight.sorted { $0.key < $1.key }.map { ($0.key, $0.value.action.rawValue, $0.value.sinceMs) },
                   decisions: $0.decisions)
        }
    }
}
