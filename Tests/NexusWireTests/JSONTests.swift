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
