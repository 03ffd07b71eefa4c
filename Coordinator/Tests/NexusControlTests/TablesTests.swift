import Testing
import NexusWire
@testable import NexusControl

@Suite struct TablesTests {
    func nodes(_ json: String) throws -> JSONValue { try JSONParser.parse(Array(json.utf8)) }

    @Test func theStatusTableAlignsItsColumnsAndShowsNoReadingForANodeThatIsOff() throws {
        let answer = try nodes("""
            {"feed":{"connected":true},"nodes":[
             {"name":"head","state":"awake","watts":3.456,"max_celsius":41.26,"utilisation":0.123,"age_s":0.4,
              "wake":{"method":"none","via":null,"armed":null}},
             {"name":"n1","state":"sleeping","watts":2.85,"max_celsius":45,"utilisation":0.04,"age_s":125,
              "wake":{"method":"wol","via":null,"armed":false}}]}
            """)
        let lines = Tables.status(answer).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0] == "NODE  STATE      WATTS    °C  LOAD  WAKE             LAST SEEN")
        #expect(lines[1] == "head  awake     3.46 W  41.3  12 %  none               0 s ago")
        #expect(lines[2] == "n1    sleeping       -     -     -  wol (not armed)  2 min ago")
    }

    @Test func aDisconnectedFeedIsSaid() throws {
        let out = Tables.status(try nodes(#"{"feed":{"connected":false},"nodes":[]}"#))
        #expect(out.contains("feed is disconnected"))
    }

    @Test func controlCharactersFromTheFeedCannotReachTheTerminal() throws {
        let answer = try nodes(#"{"feed":{"connected":true},"nodes":[{"name":"evil\u001b[2J","state":"awake","wake":{"method":"none"}}]}"#)
        let out = Tables.status(answer)
        #expect(!out.unicodeScalars.contains { $0.value == 0x1b })
        #expect(out.contains("evil?[2J"))
    }

    @Test func hintsAndDecisions() throws {
        let hints = try nodes(#"{"hints":[{"node":"n1","schedulable":false,"reason":"nexusgrid: node is asleep","score":10,"marginal_watts_per_work":3.7}]}"#)
        #expect(Tables.hints(hints).contains("n1    no              10        3.70  nexusgrid: node is asleep"))
        let decisions = try nodes("""
            {"mode":"on","holding":"waiting for n2 to finish","decisions":[
             {"at_ms":3723000,"node":"n2","action":"sleep","reason":"idle","acted":true},
             {"at_ms":0,"node":"n1","action":"wake","reason":"busy","acted":false}]}
            """)
        let text = Tables.decisions(decisions, limit: 1)
        #expect(text == "policy on: waiting for n2 to finish\n  01:02:03 sleep n2: idle\n")
        #expect(Tables.number(.number(3.5), 2) == "3.50" && Tables.number(nil, 1) == "-")
    }
}
