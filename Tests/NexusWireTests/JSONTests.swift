import Testing
import Foundation
@testable import NexusWire

@Suite struct JSONTests {
    @Test func escapesStrings() throws {
        let v = JSONValue.object([("s", .string("a\"b\\c\n\t\u{01}é°"))])
        let text = v.serialized()
        #expect(text == #"{"s":"a\"b\\c\n\t\u0001é°"}"#)
        let back = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
        #expect(back?["s"] == "a\"b\\c\n\t\u{01}é°")
    }

    @Test(arguments: [(0.1, "0.1"), (2.0, "2"), (-0.004, "-0.004"), (1e-05, "1e-05"), (123456.789, "123456.789")])
    func numbers(_ d: Double, _ text: String) throws {
        #expect(JSONValue.number(d).serialized() == text)
        let parsed = try JSONSerialization.jsonObject(with: Data("[\(text)]".utf8)) as? [Double]
        #expect(parsed?.first == d)
    }

    @Test func integersAndNesting() throws {
        #expect(JSONValue.int(0).serialized() == "0")
        #expect(JSONValue.int(-42).serialized() == "-42")
        #expect(JSONValue.int(.max).serialized() == "9223372036854775807")
        #expect(JSONValue.int(.min).serialized() == "-9223372036854775808")
        #expect(JSONValue.number(-3.0).serialized() == "-3")
        let v = JSONValue.object([("a", .array([.int(1), .object([("k", .string("\u{7f}\u{1f}ü"))])])), ("b", .bool(true))])
        #expect(v.serialized() == #"{"a":[1,{"k":"\#u{7f}\u001fü"}],"b":true}"#)
        #expect(v.serialized(pretty: true) == "{\n  \"a\": [\n    1,\n    {\n      \"k\": \"\u{7f}\\u001fü\"\n    }\n  ],\n  \"b\": true\n}")
    }

    @Test func nonFiniteBecomesNull() {
        #expect(JSONValue.number(Double.nan, places: 2) == .null)
        #expect(JSONValue.number(Double.infinity).serialized() == "null")
        #expect(JSONValue.number(nil, places: 3) == .null)
    }

    @Test func rounding() {
        #expect(JSONValue.number(2.69812, places: 3) == .number(2.698))
    }

    @Test func prettyAndCompactParseTheSame() throws {
        let v = JSONValue.object([("a", .array([.int(1), .bool(false), .null])), ("b", .object([])), ("c", .array([]))])
        let compact = try JSONSerialization.jsonObject(with: Data(v.serialized().utf8)) as? NSDictionary
        let pretty = try JSONSerialization.jsonObject(with: Data(v.serialized(pretty: true).utf8)) as? NSDictionary
        #expect(compact != nil)
        #expect(compact == pretty)
        #expect(v.serialized() == #"{"a":[1,false,null],"b":{},"c":[]}"#)
    }
}
