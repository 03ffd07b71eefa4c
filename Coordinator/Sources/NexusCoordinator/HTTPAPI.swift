public import Hummingbird
public import NexusExtender
internal import NexusFleet
internal import NexusPolicy
internal import NexusWire
internal import NIOCore

/// The coordinator's HTTP side: the scheduler extender under /scheduler and the JSON
/// API under /v1. Every handler answers from a snapshot of the fleet.
public enum HTTPAPI {
    /// `now`: the wall clock in milliseconds (the feed's `lastSeenMs` use the same).
    public static func router(store: FleetStore, policy: Extender.Policy = .init(), metrics: CoordinatorMetrics = .init(),
                              power: PolicyRunner? = nil, history: PowerHistory? = nil, commands: OperatorCommands? = nil,
                              now: @escaping @Sendable () -> Int64) -> Router<BasicRequestContext> {
        let router = Router()

        /// The request's ExtenderArgs, or the 400 answer (in the verb's own shape) if unusable.
        /// Bodies over the limit are refused with 413 by `collect` before any parsing.
        @Sendable func args(_ request: Request, onError: (String) -> JSONValue) async throws -> Parsed {
            let body = try await request.body.collect(upTo: Extender.maxBodyBytes)
            do throws(Extender.BadRequest) { return .args(try Extender.parseArgs(Array(buffer: body))) } catch {
                metrics.countBadRequest()
                return .refused(json(onError(error.message), status: .badRequest))
            }
        }

        router.post("/scheduler/filter") { request, _ -> Response in
            switch try await args(request, onError: Extender.filterError) {
            case .refused(let answer): return answer
            case .args(let a):
                metrics.countFilter()
                let s = store.snapshot()
                let t = now()
                let fresh = s.feedIsFresh(nowMs: t, staleAfterMs: policy.staleAfterMs)
                return json(Extender.filter(a, fleet: s.nodes, policy: policy, nowMs: t, feedIsFresh: fresh))
            }
        }

        router.post("/scheduler/prioritize") { request, _ -> Response in
            switch try await args(request, onError: { JSONValue.object([("error", .string($0))]) }) {
            case .refused(let answer): return answer
            case .args(let a):
                metrics.countPrioritize()
                return json(Extender.prioritize(a, fleet: store.snapshot().nodes))
            }
        }

        router.get("/v1/nodes") { _, _ -> Response in
            let s = store.snapshot()
            let t = now()
            let allRoutes = WakeRoute.allRoutes(in: s.nodes)
            return json(.object([
                ("feed", .object([("connected", .bool(s.feedConnected)), ("rejected_messages", .int(Int64(s.rejectedMessages)))])),
                ("policy", .string(power?.settings.mode.rawValue ?? "off")),
                ("commands", .bool(commands != nil)),
                ("nodes", .array(s.nodes.values.sorted { $0.name < $1.name }.map { r in
                    var n = nodeJSON(r, nowMs: t)
                    if case .object(var f) = n {
                        let routes = allRoutes[r.name] ?? []
                        f.append(("wake_routes", .array(routes.map { .object([("via", .string($0.via)), ("method", .string($0.method))]) })))
                        n = .object(f)
                    }
                    return n
                })),
            ]))
        }

        // The fleet's power over the last hour (the fleet page's chart).
        router.get("/v1/history") { request, _ -> Response in
            let since = request.uri.queryParameters.get("since_ms").flatMap { Int64($0) } ?? 0
            let points = history?.snapshot(sinceMs: since) ?? []
            return json(.object([
                ("interval_s", .number(Double(history?.intervalMs ?? 0) / 1000, places: 1)),
                ("points", .array(points.map { p in
                    .object([("at_ms", .int(p.atMs)), ("total_w", .number(p.total, places: 3)),
                             ("nodes", .object(p.watts.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value, places: 3)) }))])
                })),
            ]))
        }

        // The agents' latest events: command answers, relays, wakes, the button.
        router.get("/v1/events") { request, _ -> Response in
            let since = request.uri.queryParameters.get("since_ms").flatMap { Int64($0) } ?? 0
            let node = request.uri.queryParameters.get("node")
            let events: [JSONValue] = store.events(node: node, sinceMs: since).map { e in
                .object([("at_ms", .int(e.atMs)), ("node", .string(e.node)), ("type", .string(e.type)),
                         ("id", e.id.map { .string($0) } ?? .null), ("outcome", e.outcome.map { .string($0) } ?? .null),
                         ("summary", .string(e.summary))])
            }
            return json(.object([("events", .array(events))]))
        }

        // Signed operator commands (nexusctl): docs/coordinator.md, "Operator commands".
        router.post("/v1/nodes/:node/commands/:verb") { request, context -> Response in
            let body = try await request.body.collect(upTo: 16 * 1024)
            guard let commands else {
                return json(.object([("error", .string("this coordinator has no command key (commands.key): it cannot check or carry out signed commands"))]),
                            status: .serviceUnavailable)
            }
            let a = commands.handle(node: context.parameters.get("node") ?? "", verb: context.parameters.get("verb") ?? "",
                                    body: Array(buffer: body))
            return json(a.body, status: HTTPResponse.Status(code: a.status))
        }

        router.get("/") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                     body: .init(byteBuffer: ByteBuffer(string: FleetPage.html)))
        }

        router.get("/v1/hints") { _, _ -> Response in
            let s = store.snapshot()
            let t = now()
            let fresh = s.feedIsFresh(nowMs: t, staleAfterMs: policy.staleAfterMs)
            let names = s.nodes.keys.sorted()
            let args = Extender.Args(nodeNames: names)
            let scores = Extender.prioritize(args, fleet: s.nodes).arrayValue ?? []
            let hints: [JSONValue] = zip(names, scores).map { name, score in
                let refusal = Extender.refusal(s.nodes[name], policy: policy, nowMs: t, feedIsFresh: fresh)
                return .object([("node", .string(name)), ("schedulable", .bool(refusal == nil)),
                                ("reason", refusal.map { .string($0) } ?? .null),
                                ("score", score["Score"] ?? .null),
                                ("marginal_watts_per_work", s.nodes[name].flatMap(Extender.marginalCost).map { .number($0, places: 3) } ?? .null)])
            }
            return json(.object([("hints", .array(hints))]))
        }

        router.get("/v1/decisions") { _, _ -> Response in
            guard let power else { return json(.object([("mode", .string("off")), ("decisions", .array([]))])) }
            let r = power.report()
            let decisions: [JSONValue] = r.decisions.reversed().map { d in
                .object([("at_ms", .int(d.atMs)), ("node", .string(d.node)), ("action", .string(d.action.rawValue)),
                         ("reason", .string(d.reason)), ("acted", .bool(d.acted))]
                        + (d.via.map { [("via", .string($0)), ("method", .string(d.method ?? ""))] } ?? []))
            }
            let inFlight: [JSONValue] = r.inFlight.map {
                .object([("node", .string($0.node)), ("action", .string($0.action)), ("since_ms", .int($0.sinceMs)),
                         ("tried", .array($0.tried.map { .string($0.description) }))])
            }
            return json(.object([("mode", .string(r.mode.rawValue)), ("holding", r.holding.map { .string($0) } ?? .null),
                                 ("in_flight", .array(inFlight)), ("decisions", .array(decisions))]))
        }

        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics.render(store.snapshot(), nowMs: now(), policy: power?.report()))))
        }

        // Cheap at any fleet size: what a liveness probe and tools/bench-ingest read.
        router.get("/healthz") { _, _ -> Response in
            let s = store.snapshot(raw: true)
            return json(.object([("ok", .bool(true)), ("feed_connected", .bool(s.feedConnected)), ("feed_messages", .int(s.messages))]))
        }
        return router
    }

    enum Parsed {
        case args(Extender.Args)
        case refused(Response)
    }

    static func nodeJSON(_ r: NodeRecord, nowMs: Int64) -> JSONValue {
        func num(_ v: Double?, _ places: Int) -> JSONValue { v.map { .number($0, places: places) } ?? .null }
        func strings(_ a: [String]) -> JSONValue { .array(a.map { .string($0) }) }
        let via: JSONValue = r.wakeVia.map { .string($0) } ?? .null
        let armed: JSONValue = r.wolArmed.map { .bool($0) } ?? .null
        var model: JSONValue = .null
        if let m = r.energy {
            model = .object([("idle_w", .number(m.idleWatts, places: 3)), ("w_per_load", .number(m.wattsPerLoad, places: 3)),
                             ("samples", .int(Int64(m.samples)))])
        }
        var fields: [(String, JSONValue)] = [
            ("name", .string(r.name)), ("state", .string(r.state)), ("online", .bool(r.online)),
            ("board", .string(r.board)), ("version", .string(r.version)),
        ]
        fields += [("watts", num(r.watts, 3)), ("max_celsius", num(r.maxCelsius, 1)),
                   ("thermal_headroom_c", num(r.thermalHeadroom, 1)), ("utilisation", num(r.utilisation, 4)),
                   ("load_1m", num(r.load1, 2)), ("memory_used", num(r.memoryUsed, 4)), ("energy_kwh", num(r.energyKWh, 9))]
        fields += [("wake", .object([("method", .string(r.wakeMethod)), ("via", via), ("armed", armed)])),
                   ("wakes", .object(r.wakes.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })), ("warnings", strings(r.warnings)), ("faults", strings(r.faults)),
                   ("energy_model", model), ("last_seen_ms", .int(r.lastSeenMs)),
                   ("age_s", .number(Double(nowMs - r.lastSeenMs) / 1000, places: 1))]
        return .object(fields)
    }

    static func json(_ v: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: v.serializedBytes(newline: true))))
    }
}
