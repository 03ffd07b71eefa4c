import Testing
import Foundation
import Hummingbird
import NIOCore
import Synchronization
import NexusWire
@testable import NexusFleet
@testable import NexusKube

func parse(_ s: String) throws -> JSONValue { try JSONParser.parse(Array(s.utf8), maxDepth: 64) }

/// A node as the API server returns it, with marks of its own that are not ours.
let apiNode = #"""
{"kind":"Node","apiVersion":"v1","metadata":{"name":"pi-1","resourceVersion":"4711",
 "labels":{"kubernetes.io/hostname":"pi-1","nexusgrid.io/state":"awake","nexusgrid.io/stale":"x"}},
 "spec":{"podCIDR":"10.42.1.0/24","taints":[{"key":"node-role.kubernetes.io/control-plane","effect":"NoSchedule"},
 {"key":"nexusgrid.io/hot","effect":"NoSchedule"}]}}
"""#

func record(_ state: String, celsius: Double = 50) -> NodeRecord {
    var r = NodeRecord(name: "pi-1")
    r.state = state
    r.board = "pi4b"
    r.wakeMethod = "poe-relay"
    r.maxCelsius = celsius
    r.throttleCelsius = 80
    return r
}

@Suite struct NodeMarksTests {
    @Test func patchTouchesOnlyOurKeysAndKeepsForeignTaints() throws {
        let patch = try #require(NodeMarks.desired(for: record("draining")).mergePatch(against: try parse(apiNode)))
        #expect(patch.serialized() == #"{"metadata":{"labels":{"nexusgrid.io/board":"pi4b","nexusgrid.io/state":"draining","nexusgrid.io/wake-method":"poe-relay","nexusgrid.io/stale":null},"resourceVersion":"4711"},"spec":{"taints":[{"key":"node-role.kubernetes.io/control-plane","effect":"NoSchedule"},{"key":"nexusgrid.io/draining","effect":"NoSchedule"}]}}"#)
    }

    @Test func nothingToDoMeansNoPatch() throws {
        let node = try parse(#"{"metadata":{"name":"pi-1","labels":{"nexusgrid.io/state":"awake","nexusgrid.io/board":"pi4b","nexusgrid.io/wake-method":"poe-relay"}},"spec":{}}"#)
        #expect(NodeMarks.desired(for: record("awake")).mergePatch(against: node) == nil)
        // Labels only: no taint list and no resourceVersion in the patch.
        let hotless = try #require(NodeMarks.desired(for: record("fault")).mergePatch(against: node))
        #expect(hotless.serialized() == #"{"metadata":{"labels":{"nexusgrid.io/state":"fault"}}}"#)
        // Asleep: tainted, so nothing lands on it before the node controller sees it gone.
        #expect(NodeMarks.desired(for: record("sleeping")).taints == ["nexusgrid.io/sleeping": "NoSchedule"])
    }

    @Test func aHotNodeIsTainted() {
        #expect(NodeMarks.desired(for: record("awake", celsius: 77)).taints == ["nexusgrid.io/hot": "NoSchedule"])
        #expect(NodeMarks.desired(for: record("awake", celsius: 70)).taints.isEmpty)
    }
}

/// Runs `router` on a free loopback port for the length of `body`.
func serve(_ router: Router<BasicRequestContext>, _ body: (Int) async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        let port = Mutex<Int?>(nil)
        let ready = AsyncStream<Void>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  port.withLock { $0 = channel.localAddress?.port }
                                  ready.continuation.yield()
                              })
        group.addTask { try await app.runService() }
        for await _ in ready.stream { break }
        let p = try #require(port.withLock { $0 })
        try await body(p)
        group.cancelAll()
    }
}

/// What the fake API server saw.
final class Seen: Sendable {
    let requests = Mutex<[(method: String, path: String, contentType: String, authorization: String, body: String)]>([])
}

@Suite struct KubeClientTests {
    /// A local HTTP server in the API server's place: it answers GET for pi-1 (404 for
    /// anything else) and records each PATCH: method, path, content type, token, body.
    func withAPIServer(_ body: (Int, Seen) async throws -> Void) async throws {
        let seen = Seen()
        let router = Router()
        router.get("/api/v1/nodes/:name") { _, context -> Response in
            let name = context.parameters.get("name") ?? ""
            guard name == "pi-1" else {
                return Response(status: .notFound, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: #"{"kind":"Status","message":"nodes \"\#(name)\" not found","code":404}"#)))
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: apiNode)))
        }
        router.patch("/api/v1/nodes/:name") { request, _ -> Response in
            let b = try await request.body.collect(upTo: 1 << 20)
            seen.requests.withLock {
                $0.append((request.method.rawValue, request.uri.path, request.headers[.contentType] ?? "",
                           request.headers[.authorization] ?? "", String(buffer: b)))
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: apiNode)))
        }
        try await serve(router) { port in try await body(port, seen) }
    }

    @Test func markerPatchesWithTheRightMethodPathTypeAndBody() async throws {
        try await withAPIServer { port, seen in
            let client = try KubeClient(credentials: KubeCredentials(server: "http://127.0.0.1:\(port)", bearerToken: "t0ken"))
            let marker = NodeMarker(client: client)
            #expect(await marker.reconcile(record("draining")) == .patched)
            var other = record("awake")
            other.name = "not-a-k8s-node"
            #expect(await marker.reconcile(other) == .notInCluster)
            await client.shutdown()
            let r = seen.requests.withLock { $0 }
            #expect(r.count == 1)
            let p = try #require(r.first)
            #expect(p.method == "PATCH")
            #expect(p.path == "/api/v1/nodes/pi-1")
            #expect(p.contentType == "application/merge-patch+json")
            #expect(p.authorization == "Bearer t0ken")
            let body = try parse(p.body)
            #expect(body["metadata"]?["labels"]?["nexusgrid.io/state"]?.stringValue == "draining")
            #expect(body["metadata"]?["labels"]?["kubernetes.io/hostname"] == nil)
            #expect(body["spec"]?["taints"]?.arrayValue?.count == 2)
        }
    }

    @Test func apiErrorsAreClear() async throws {
        try await withAPIServer { port, _ in
            let client = try KubeClient(credentials: KubeCredentials(server: "http://127.0.0.1:\(port)"))
            do throws(KubeError) {
                _ = try await client.getNode("ghost")
                Issue.record("no error")
            } catch {
                #expect(error.status == 404)
                #expect(error.description == #"get node ghost: HTTP 404: nodes "ghost" not found"#)
            }
            await client.shutdown()
        }
    }
}

@Suite struct KubeConfigTests {
    @Test func readsTheCurrentContextOfAK3sKubeconfig() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "tok-from-file\n".write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        let ca = Base64.encode(Array("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n".utf8))
        let path = dir.appendingPathComponent("config").path
        try """
            apiVersion: v1
            kind: Config
            clusters:
            - name: other
              cluster: {server: https://10.0.0.9:6443}
            - name: default
              cluster:
                certificate-authority-data: \(ca)
                server: https://127.0.0.1:6443
            contexts:
            - name: default
              context: {cluster: default, user: default}
            current-context: default
            users:
            - name: default
              user:
                tokenFile: token
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let c = try KubeCredentials.kubeconfig(path: path)
        #expect(c.server == "https://127.0.0.1:6443")
        #expect(c.caPEM.map { String(decoding: $0, as: UTF8.self) }?.hasPrefix("-----BEGIN CERTIFICATE-----") == true)
        #expect(c.bearerToken == "tok-from-file")
    }

    @Test func errorsSayWhatIsWrong() {
        #expect(throws: KubeConfigError.self) { try KubeCredentials.kubeconfig(path: "/nonexistent/kubeconfig") }
        #expect(throws: KubeConfigError(message: "not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set (use --kubeconfig)")) {
            try KubeCredentials.inCluster(environment: [:], directory: "/nonexistent")
        }
    }
}
