internal import NexusYAML
internal import NexusWire
internal import Foundation

/// Where the API server is and how to prove who we are: a service account's files when
/// running in the cluster, or a kubeconfig (its current context) outside it.
public struct KubeCredentials: Sendable, Equatable {
    public var server: String
    /// PEM of the CA that signed the API server's certificate; nil trusts the system store.
    public var caPEM: [UInt8]?
    public var bearerToken: String?
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?

    public init(server: String, caPEM: [UInt8]? = nil, bearerToken: String? = nil,
                clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil) {
        self.server = server
        self.caPEM = caPEM
        self.bearerToken = bearerToken
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
    }
}

public struct KubeConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension KubeCredentials {
    static let serviceAccount = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// In-cluster: KUBERNETES_SERVICE_HOST/PORT and the mounted service-account token and CA.
    public static func inCluster() throws(KubeConfigError) -> KubeCredentials {
        try inCluster(environment: ProcessInfo.processInfo.environment, directory: serviceAccount)
    }

    static func inCluster(environment: [String: String], directory: String) throws(KubeConfigError) -> KubeCredentials {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else {
            throw KubeConfigError(message: "not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set (use --kubeconfig)")
        }
        let token = try read("\(directory)/token", what: "service-account token")
        let ca = try read("\(directory)/ca.crt", what: "service-account CA")
        let h = host.contains(":") ? "[\(host)]" : host
        return KubeCredentials(server: "https://\(h):\(port)", caPEM: ca,
                               bearerToken: String(decoding: token, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The current context of a kubeconfig: its cluster's server and CA, its user's token or
    /// client certificate (inline `-data` or file paths, relative to the kubeconfig).
    public static func kubeconfig(path: String) throws(KubeConfigError) -> KubeCredentials {
        do {
            return try parseKubeconfig(path: path)
        } catch let e as KubeConfigError {
            throw e
        } catch {
            throw KubeConfigError(message: "\(error)")
        }
    }

    static func parseKubeconfig(path: String) throws -> KubeCredentials {
        let text = String(decoding: try read(path, what: "kubeconfig"), as: UTF8.self)
        let base = (path as NSString).deletingLastPathComponent
        do {
            guard let root = try YAML.parse(text, file: path) else { throw KubeConfigError(message: "\(path): empty kubeconfig") }
            let o = try YAMLObject(root, file: path, path: "")
            let current = try o.string("current-context")
            func named(_ key: String, _ name: String?) throws -> YAMLObject? {
                for (i, item) in try o.list(key).enumerated() {
                    let entry = try YAMLObject(item, file: path, path: "\(key)[\(i)]")
                    let entryName = try entry.string("name")
                    if name == nil || entryName == name { return try entry.object(String(key.dropLast())) }
                }
                return nil
            }
            let contextName = current
            var clusterName: String?, userName: String?
            if let ctx = try named("contexts", contextName) {
                clusterName = try ctx.string("cluster")
                userName = try ctx.string("user")
            } else if contextName != nil {
                throw KubeConfigError(message: "\(path): current-context '\(contextName ?? "")' is not in contexts")
            }
            guard let cluster = try named("clusters", clusterName) else {
                throw KubeConfigError(message: "\(path): no cluster '\(clusterName ?? "")'")
            }
            var c = KubeCredentials(server: try cluster.requiredString("server"))
            c.caPEM = try pem(cluster, "certificate-authority", base: base)
            if let user = try named("users", userName) {
                if let t = try user.string("token") { c.bearerToken = t }
                if let f = try user.string("tokenFile") {
                    c.bearerToken = String(decoding: try read(resolve(f, base), what: "token file"), as: UTF8.self)
                        .trimmingCharacters(in: .whitespacesAndNewlines)
                }
                c.clientCertificatePEM = try pem(user, "client-certificate", base: base)
                c.clientKeyPEM = try pem(user, "client-key", base: base)
            }
            return c
        }
    }

    /// KEY-data (base64 PEM) or KEY (a file).
    static func pem(_ o: YAMLObject, _ key: String, base: String) throws -> [UInt8]? {
        if let data = try o.string("\(key)-data") {
            guard let bytes = Base64.decode(data) else { throw KubeConfigError(message: "\(key)-data is not base64") }
            return bytes
        }
        if let file = try o.string(key) { return try read(resolve(file, base), what: key) }
        return nil
    }

    static func resolve(_ file: String, _ base: String) -> String {
        file.hasPrefix("/") || base.isEmpty ? file : base + "/" + file
    }

    static func read(_ path: String, what: String) throws(KubeConfigError) -> [UInt8] {
        guard let d = FileManager.default.contents(atPath: path) else {
            throw KubeConfigError(message: "cannot read \(what) \(path)")
        }
        return Array(d)
    }
}
