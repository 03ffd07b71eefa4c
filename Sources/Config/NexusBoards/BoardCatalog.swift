public import NexusYAML
public import NexusHardware

/// Finds a board by name (the built-in profiles) or by path (a file of the user's).
public enum BoardCatalog {
    public static var names: [String] { EmbeddedBoards.files.map(\.name) }

    public static func text(named name: String) -> String? {
        EmbeddedBoards.files.first { $0.name == name }?.text
    }

    /// `reference` is a built-in board's name, or a path when it contains a `/` or ends in `.yaml`.
    public static func load(_ reference: String) throws(ConfigError) -> Board {
        if reference.contains("/") || reference.hasSuffix(".yaml") || reference.hasSuffix(".yml") {
            let text = try ConfigError.readText(reference, what: "board file")
            do { return try BoardLoader.load(text: text, file: reference) } catch { throw .invalid(error) }
        }
        guard let text = text(named: reference) else {
            throw .unknownBoard(reference, known: names)
        }
        do { return try BoardLoader.load(text: text, file: "boards/\(reference).yaml") } catch { throw .invalid(error) }
    }
}

public enum ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(path: String, what: String, HardwareError)
    case invalid(YAMLError)
    case unknownBoard(String, known: [String])
    /// The config asks for something the board's wiring does not have.
    case doesNotFit(String)

    public var description: String {
        switch self {
        case .unreadable(let p, let w, let e): "cannot read \(w) \(p): \(e.errno)"
        case .invalid(let e): e.description
        case .unknownBoard(let n, let known):
            "unknown board '\(n)': built-in boards are \(known.joined(separator: ", ")); or give a path to a board file"
        case .doesNotFit(let m): m
        }
    }

    static func readText(_ path: String, what: String) throws(ConfigError) -> String {
        do {
            return String(decoding: try readSmallFile(path), as: UTF8.self)
        } catch {
            throw .unreadable(path: path, what: what, error)
        }
    }
}
