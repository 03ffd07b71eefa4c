public import AsyncHTTPClient
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
}
