internal import AsyncHTTPClient
public import NIOCore
internal import NIOHTTP1
internal import NIOSSL
public import NexusWire

public struct KubeError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var status: Int?
    public var message: String
    public var description: String { "\(operation): " + (status.map { "HTTP \($0): " } ?? "") + message }
}

/// The few Kubernetes API calls the coordinator makes, over async-http-client. Every
/// call has a timeout; nothing on the scheduler's path waits for one.
public final class KubeClient: Sendable {
    public let credentials: KubeCredentials
    private let http: HTTPClient
    public let timeout: TimeAmount

    public init(credentials: KubeCredentials, timeout: TimeAmount = .seconds(10)) throws(KubeError) {
        self.credentials = credentials
        self.timeout = timeout
        var config = HTTPClient.Configuration()
        if credentials.server.hasPrefix("https://") {
            var tls = TLSConfiguration.makeClientConfiguration()
            do {
                if let ca = credentials.caPEM {
                    tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
                }
                if let cert = credentials.clientCertificatePEM, let key = credentials.clientKeyPEM {
                    tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(cert).map { .certificate($0) }
                    tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
                }
            } catch {
                throw KubeError(operation: "TLS set-up", status: nil, message: "\(error)")
            }
            config.tlsConfiguration = tls
        }
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    func request(_ method: HTTPMethod, _ path: String, body: String? = nil, contentType: String? = nil,
                 what: String) async throws(KubeError) -> JSONValue {
        var req = HTTPClientRequest(url: credentials.server + path)
        req.method = method
        req.headers.add(name: "Accept", value: "application/json")
        req.headers.add(name: "User-Agent", value: "nexus-coordinator")
        if let t = credentials.bearerToken { req.headers.add(name: "Authorization", value: "Bearer \(t)") }
        if let body {
            req.headers.add(name: "Content-Type", value: contentType ?? "application/json")
            req.body = .bytes(ByteBuffer(string: body))
        }
        do {
            let resp = try await http.execute(req, timeout: timeout)
            let bytes = try await resp.body.collect(upTo: 4 << 20)
            let json = (try? JSONParser.parse(Array(buffer: bytes), maxBytes: 4 << 20, maxDepth: 64)) ?? .null
            guard (200..<300).contains(resp.status.code) else {
                throw KubeError(operation: what, status: Int(resp.status.code),
                                message: json["message"]?.stringValue ?? resp.status.reasonPhrase)
            }
            return json
        } catch let e as KubeError {
            throw e
        } catch {
            throw KubeError(operation: what, status: nil, message: "\(error)")
        }
    }

    public func getNode(_ name: String) async throws(KubeError) -> JSONValue {
        try await request(.GET, "/api/v1/nodes/\(name)", what: "get node \(name)")
    }

    /// A JSON merge patch (RFC 7386) on a node.
    public func patchNode(_ name: String, mergePatch: JSONValue) async throws(KubeError) -> JSONValue {
        try await request(.PATCH, "/api/v1/nodes/\(name)", body: mergePatch.serialized(),
                          contentType: "application/merge-patch+json", what: "patch node \(name)")
    }

    /// Pods matching a field selector, across namespaces (e.g. `spec.nodeName=pi-1`).
    public func listPods(fieldSelector: String) async throws(KubeError) -> [JSONValue] {
        let json = try await request(.GET, "/api/v1/pods?fieldSelector=" + Self.queryEscaped(fieldSelector),
                                     what: "list pods (\(fieldSelector))")
        return json["items"]?.arrayValue ?? []
    }

    public func listNodes() async throws(KubeError) -> [JSONValue] {
        try await request(.GET, "/api/v1/nodes", what: "list nodes")["items"]?.arrayValue ?? []
    }

    /// An eviction (policy/v1): the API server refuses with 429 what a
    /// PodDisruptionBudget forbids right now.
    public func evict(namespace: String, pod: String) async throws(KubeError) {
        let body = JSONValue.object([("apiVersion", .string("policy/v1")), ("kind", .string("Eviction")),
                                     ("metadata", .object([("name", .string(pod)), ("namespace", .string(namespace))]))])
        _ = try await request(.POST, "/api/v1/namespaces/\(namespace)/pods/\(pod)/eviction", body: body.serialized(),
                              what: "evict \(namespace)/\(pod)")
    }

    static func leasePath(_ namespace: String, _ name: String? = nil) -> String {
        "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases" + (name.map { "/\($0)" } ?? "")
    }

    public func getLease(namespace: String, name: String) async throws(KubeError) -> JSONValue {
        try await request(.GET, Self.leasePath(namespace, name), what: "get lease \(namespace)/\(name)")
    }

    public func createLease(namespace: String, _ lease: JSONValue) async throws(KubeError) -> JSONValue {
        try await request(.POST, Self.leasePath(namespace), body: lease.serialized(), what: "create lease in \(namespace)")
    }

    /// A full update: the lease's resourceVersion makes a concurrent writer fail with 409.
    public func replaceLease(namespace: String, name: String, _ lease: JSONValue) async throws(KubeError) -> JSONValue {
        try await request(.PUT, Self.leasePath(namespace, name), body: lease.serialized(), what: "update lease \(namespace)/\(name)")
    }

    /// Percent-encodes everything but unreserved characters (RFC 3986).
    static func queryEscaped(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }
}
