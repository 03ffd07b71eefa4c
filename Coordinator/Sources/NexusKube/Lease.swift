internal import NexusWire
internal import Synchronization

/// Leader election with a coordination.k8s.io/v1 Lease, as client-go does it: the leader
/// renews every `retryMs`; another replica takes over only after it has seen the same
/// record unchanged for the lease's duration (its own clock, so clock skew between
/// replicas does not matter); a leader that cannot renew within `renewDeadlineMs` stops
/// acting by itself. Only the leader acts on decisions and patches nodes.
public final class LeaseElector: Sendable {
    public let client: KubeClient
    public let namespace: String
    public let name: String
    public let identity: String
    public let durationS: Int
    public let renewDeadlineMs: Int64

    struct State {
        var observed: String?
        var observedAtMs: Int64 = 0
        var lastRenewMs: Int64?
        var holder: String?
        var lastError: String?
    }
    private let state = Mutex(State())

    public init(client: KubeClient, namespace: String, name: String, identity: String,
                durationS: Int = 15, renewDeadlineMs: Int64 = 10_000) {
        self.client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.durationS = durationS
        self.renewDeadlineMs = renewDeadlineMs
    }

    public func isLeader(nowMs: Int64) -> Bool {
        state.withLock { s in s.lastRenewMs.map { nowMs - $0 < renewDeadlineMs } ?? false }
    }

    /// Who holds the lease, as last seen, and the last error.
    public var status: (holder: String?, error: String?) { state.withLock { ($0.holder, $0.lastError) } }

    func lease(acquireTime: String, renewTime: String, transitions: Int64, resourceVersion: JSONValue?,
               holder: String, durationS: Int) -> JSONValue {
        var meta: [(String, JSONValue)] = [("name", .string(name)), ("namespace", .string(namespace))]
        if let resourceVersion { meta.append(("resourceVersion", resourceVersion)) }
        return .object([("apiVersion", .string("coordination.k8s.io/v1")), ("kind", .string("Lease")),
                        ("metadata", .object(meta)),
                        ("spec", .object([("holderIdentity", .string(holder)), ("leaseDurationSeconds", .int(Int64(durationS))),
                                          ("acquireTime", .string(acquireTime)), ("renewTime", .string(renewTime)),
                                          ("leaseTransitions", .int(transitions))]))])
    }

    /// One round: take or renew the lease if it is ours to take. Returns whether this
    /// replica leads now.
    @discardableResult
    public func tryAcquireOrRenew(nowMs: Int64) async -> Bool {
        let now = MicroTime.format(ms: nowMs)
        let current: JSONValue
        do {
            current = try await client.getLease(namespace: namespace, name: name)
        } catch where error.status == 404 {
            do {
                _ = try await client.createLease(namespace: namespace,
                                                 lease(acquireTime: now, renewTime: now, transitions: 0, resourceVersion: nil,
                                                       holder: identity, durationS: durationS))
                return renewed(nowMs, record: "\(identity)@\(now)")
            } catch {
                return failed(error.description, nowMs: nowMs) // 409: another replica created it first
            }
        } catch {
            return failed(error.description, nowMs: nowMs)
        }
        let spec = current["spec"]
        let holder = spec?["holderIdentity"]?.stringValue ?? ""
        let record = "\(holder)@\(spec?["renewTime"]?.stringValue ?? "")"
        let duration = Int64(spec?["leaseDurationSeconds"]?.intValue ?? Int64(durationS)) * 1000
        let expired: Bool = state.withLock { s in
            if s.observed != record {
                s.observed = record
                s.observedAtMs = nowMs
            }
            s.holder = holder.isEmpty ? nil : holder
            return nowMs - s.observedAtMs >= duration
        }
        guard holder == identity || holder.isEmpty || expired else {
            state.withLock { $0.lastRenewMs = nil; $0.lastError = nil }
            return false
        }
        let takeover = holder != identity
        let transitions = (spec?["leaseTransitions"]?.intValue ?? 0) + (takeover && !holder.isEmpty ? 1 : 0)
        let acquired = takeover ? now : (spec?["acquireTime"]?.stringValue ?? now)
        do {
            _ = try await client.replaceLease(namespace: namespace, name: name,
                                              lease(acquireTime: acquired, renewTime: now, transitions: transitions,
                                                    resourceVersion: current["metadata"]?["resourceVersion"],
                                                    holder: identity, durationS: durationS))
            return renewed(nowMs, record: "\(identity)@\(now)")
        } catch {
            return failed(error.description, nowMs: nowMs) // 409: someone renewed or took it meanwhile
        }
    }

    private func renewed(_ nowMs: Int64, record: String) -> Bool {
        state.withLock {
            $0.lastRenewMs = nowMs
            $0.observed = record
            $0.observedAtMs = nowMs
            $0.holder = identity
            $0.lastError = nil
        }
        return true
    }

    private func failed(_ why: String, nowMs: Int64) -> Bool {
        state.withLock { $0.lastError = why }
        return isLeader(nowMs: nowMs)
    }

    /// On a clean stop the leader gives the lease up (holder empty, 1 s), so that the
    /// other replica takes over at once instead of after the lease's duration.
    public func release(nowMs: Int64) async {
        guard isLeader(nowMs: nowMs), let current = try? await client.getLease(namespace: namespace, name: name),
              current["spec"]?["holderIdentity"]?.stringValue == identity else { return }
        let now = MicroTime.format(ms: nowMs)
        _ = try? await client.replaceLease(namespace: namespace, name: name,
                                           lease(acquireTime: current["spec"]?["acquireTime"]?.stringValue ?? now, renewTime: now,
                                                 transitions: current["spec"]?["leaseTransitions"]?.intValue ?? 0,
                                                 resourceVersion: current["metadata"]?["resourceVersion"], holder: "", durationS: 1))
        state.withLock { $0.lastRenewMs = nil }
    }
}

/// Kubernetes' MicroTime: RFC 3339 in UTC with exactly six fractional digits.
public enum MicroTime {
    public static func format(ms: Int64) -> String {
        let days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        let msOfDay = ms - days * 86_400_000
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        let h = msOfDay / 3_600_000, mi = msOfDay / 60_000 % 60, sec = msOfDay / 1000 % 60, frac = msOfDay % 1000
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(sec, 2)).\(pad(frac * 1000, 6))Z"
    }
}
