internal import CYAML

/// A position in a YAML text, 1-based.
public struct YAMLMark: Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    public var description: String { "line \(line), column \(column)" }
}

/// A parsed YAML node. Keys are scalars; anchors and aliases are refused (config files
/// do not need them and they make error positions ambiguous).
public indirect enum YAMLNode: Equatable, Sendable {
    case scalar(String, plain: Bool, YAMLMark)
    case sequence([YAMLNode], YAMLMark)
    case mapping([YAMLEntry], YAMLMark)

    public var mark: YAMLMark {
        switch self {
        case .scalar(_, _, let m), .sequence(_, let m), .mapping(_, let m): m
        }
    }

    public var kindName: String {
        switch self {
        case .scalar: "a value"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }
}

public struct YAMLEntry: Equatable, Sendable {
    public var key: String
    public var keyMark: YAMLMark
    public var value: YAMLNode
}

public struct YAMLError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var mark: YAMLMark?
    public var message: String

    public init(file: String, mark: YAMLMark?, message: String) {
        self.file = file
        self.mark = mark
        self.message = message
    }

    public var description: String {
        if let mark { return "\(file):\(mark.line):\(mark.column): \(message)" }
        return "\(file): \(message)"
    }
}

public enum YAML {
    /// Parses one document. An empty text gives nil.
    public static func parse(_ text: String, file: String) throws(YAMLError) -> YAMLNode? {
        var bytes = Array(text.utf8)
        if bytes.isEmpty { bytes = [0x0A] }
        // The closure returns a Result: Swift 6.0's withUnsafeBufferPointer does not carry
        // typed throws through.
        let result = bytes.withUnsafeBufferPointer { buffer -> Result<YAMLNode?, YAMLError> in
            guard let parser = nexus_yaml_open(buffer.baseAddress, buffer.count) else {
                return .failure(YAMLError(file: file, mark: nil, message: "cannot start the YAML parser"))
            }
            defer { nexus_yaml_close(parser) }
            var reader = EventReader(parser: parser, file: file)
            do throws(YAMLError) { return .success(try reader.document()) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

private struct EventReader {
    let parser: OpaquePointer
    let file: String
    var event = nexus_yaml_event()

    init(parser: OpaquePointer, file: String) {
        self.parser = parser
        self.file = file
    }

    var mark: YAMLMark { YAMLMark(line: event.line, column: event.column) }

    mutating func next() throws(YAMLError) {
        guard nexus_yaml_next(parser, &event) == 1 else {
            var line = 0, column = 0
            let problem = String(cString: nexus_yaml_error(parser, &line, &column))
            throw YAMLError(file: file, mark: YAMLMark(line: line, column: column), message: "YAML syntax: \(problem)")
        }
    }

    mutating func document() throws(YAMLError) -> YAMLNode? {
        try next() // stream start
        try next()
        if event.type == CInt(NEXUS_YAML_STREAM_END) { return nil }
        guard event.type == CInt(NEXUS_YAML_DOCUMENT_START) else {
            throw YAMLError(file: file, mark: mark, message: "expected a YAML document")
        }
        try next()
        let root = try node()
        try next()
        guard event.type == CInt(NEXUS_YAML_DOCUMENT_END) else {
            throw YAMLError(file: file, mark: mark, message: "unexpected content after the document")
        }
        try next()
        guard event.type == CInt(NEXUS_YAML_STREAM_END) else {
            throw YAMLError(file: file, mark: mark, message: "only one YAML document is allowed per file")
        }
        return root
    }

    /// Builds the node whose first event is current.
    mutating func node() throws(YAMLError) -> YAMLNode {
        let start = mark
        switch Int(event.type) {
        case Int(NEXUS_YAML_SCALAR):
            let text = event.value.map {
                String(decoding: UnsafeRawBufferPointer(start: $0, count: event.length), as: UTF8.self)
            } ?? ""
            return .scalar(text, plain: event.plain != 0, start)
        case Int(NEXUS_YAML_SEQUENCE_START):
            var items: [YAMLNode] = []
            while true {
                try next()
                if event.type == CInt(NEXUS_YAML_SEQUENCE_END) { return .sequence(items, start) }
                items.append(try node())
            }
        case Int(NEXUS_YAML_MAPPING_START):
            var entries: [YAMLEntry] = []
            while true {
                try next()
                if event.type == CInt(NEXUS_YAML_MAPPING_END) { return .mapping(entries, start) }
                let keyNode = try node()
                guard case .scalar(let key, _, let keyMark) = keyNode else {
                    throw YAMLError(file: file, mark: keyNode.mark, message: "mapping keys must be plain words")
                }
                if let first = entries.first(where: { $0.key == key }) {
                    throw YAMLError(file: file, mark: keyMark,
                                    message: "duplicate key '\(key)' (first at line \(first.keyMark.line))")
                }
                try next()
                entries.append(YAMLEntry(key: key, keyMark: keyMark, value: try node()))
            }
        case Int(NEXUS_YAML_ALIAS):
            throw YAMLError(file: file, mark: start, message: "anchors and aliases are not supported here; write the value out")
        default:
            throw YAMLError(file: file, mark: start, message: "unexpected YAML event")
        }
    }
}
