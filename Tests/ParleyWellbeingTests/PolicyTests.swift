import Foundation
import ParleyWellbeing
import XCTest

final class PolicyTests: XCTestCase {
    func testDefaultPolicyMapsEveryCategory() {
        let p = WellbeingPolicy.default
        XCTAssertEqual(p.action(for: .selfHarmAcute, severity: 3), .crisisSupport)
        XCTAssertEqual(p.action(for: .selfHarmIdeation, severity: 2), .gentleCheckIn)
        XCTAssertEqual(p.action(for: .selfHarmIdeation, severity: 3), .crisisSupport)  // escalation rule
        XCTAssertEqual(p.action(for: .psychosisMania, severity: 2), .groundAndRealityCheck)
        XCTAssertEqual(p.action(for: .emotionalReliance, severity: 1), .encourageHumanConnection)
        XCTAssertEqual(p.action(for: .distressOther, severity: 1), .gentleCheckIn)
        XCTAssertEqual(p.action(for: .none, severity: 0), .none)
        XCTAssertTrue(p.showsResourceCard(for: .crisisSupport))
        XCTAssertFalse(p.guidance[.crisisSupport, default: ""].isEmpty)
    }

    func policy(_ edit: (inout [String: Any]) -> Void) throws -> WellbeingPolicy {
        var object = try JSONSerialization.jsonObject(with: Data(WellbeingPolicy.defaultJSON.utf8)) as! [String: Any]
        edit(&object)
        return try WellbeingPolicy.parse(try JSONSerialization.data(withJSONObject: object))
    }

    func assertRejected(_ expectedPath: String, _ edit: (inout [String: Any]) -> Void, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try policy(edit), file: file, line: line) { error in
            guard let e = error as? PolicyError else { return XCTFail("not a PolicyError: \(error)", file: file, line: line) }
            XCTAssertEqual(e.path, expectedPath, "\(e)", file: file, line: line)
            XCTAssertTrue(e.description.contains(expectedPath), file: file, line: line)
        }
    }

    func testInvalidPoliciesAreRejectedWithThePath() {
        assertRejected("policy.colour") { $0["colour"] = "blue" }
        assertRejected("policy.actions.self_harm_acute") {
            var a = $0["actions"] as! [String: Any]; a["self_harm_acute"] = "call_the_police"; $0["actions"] = a
        }
        assertRejected("policy.actions.distress_other") {
            var a = $0["actions"] as! [String: Any]; a.removeValue(forKey: "distress_other"); $0["actions"] = a
        }
        assertRejected("policy.thresholds.psychosis_mania") {
            var t = $0["thresholds"] as! [String: Any]; t["psychosis_mania"] = -1; $0["thresholds"] = t
        }
        assertRejected("policy.breakReminders.lateNightStartHour") {
            var b = $0["breakReminders"] as! [String: Any]; b["lateNightStartHour"] = 25; $0["breakReminders"] = b
        }
        assertRejected("policy.breakReminders.enabled") {
            var b = $0["breakReminders"] as! [String: Any]; b["enabled"] = 1; $0["breakReminders"] = b
        }
        assertRejected("policy.escalations[0].category") {
            $0["escalations"] = [["category": "sadness", "minSeverity": 2, "action": "gentle_check_in"]]
        }
        assertRejected("policy.version") { $0["version"] = 2 }
        XCTAssertThrowsError(try WellbeingPolicy.parse(Data("{not json".utf8)))
    }

    func testCustomPolicyChangesTheAction() throws {
        let p = try policy {
            var a = $0["actions"] as! [String: Any]; a["self_harm_ideation"] = "crisis_support"; $0["actions"] = a
        }
        let a = WellbeingAssessor(policy: p).assess(text: "I wish I'd never been born")
        XCTAssertEqual(a.category, .selfHarmIdeation)
        XCTAssertEqual(a.action, .crisisSupport)
    }
}

final class PolicyStoreTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("wellbeing-policy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ text: String, to url: URL) throws {
        try Data(text.utf8).write(to: url, options: .atomic)
    }

    func testReloadKeepsPreviousPolicyWhenTheNewOneIsInvalid() throws {
        let url = directory.appendingPathComponent("policy.json")
        try write(WellbeingPolicy.defaultJSON, to: url)
        let store = try PolicyStore(url: url)
        XCTAssertEqual(store.reload(), .unchanged)
        XCTAssertEqual(store.assessor.assess(text: "I wish I'd never been born").action, .gentleCheckIn)

        try write(WellbeingPolicy.defaultJSON.replacingOccurrences(of: "\"self_harm_ideation\": \"gentle_check_in\"",
                                                                   with: "\"self_harm_ideation\": \"crisis_support\""), to: url)
        XCTAssertEqual(store.reload(), .reloaded)
        XCTAssertEqual(store.assessor.assess(text: "I wish I'd never been born").action, .crisisSupport)

        try write("{\"version\": 1, \"actions\": {\"self_harm_acute\": \"hug\"}}", to: url)
        guard case .rejected(let message) = store.reload() else { return XCTFail("invalid policy was not rejected") }
        XCTAssertTrue(message.contains("policy.actions"), message)
        XCTAssertNotNil(store.lastError)
        XCTAssertEqual(store.assessor.assess(text: "I wish I'd never been born").action, .crisisSupport, "previous policy stays")
    }

    func testInitialInvalidFileThrows() throws {
        let url = directory.appendingPathComponent("bad.json")
        try write("[]", to: url)
        XCTAssertThrowsError(try PolicyStore(url: url))
        XCTAssertThrowsError(try PolicyStore(url: directory.appendingPathComponent("missing.json")))
    }

    func testWatcherPicksUpAChangedFile() throws {
        let url = directory.appendingPathComponent("watched.json")
        try write(WellbeingPolicy.defaultJSON, to: url)
        let store = try PolicyStore(url: url)
        let reloaded = expectation(description: "reloaded")
        store.onReload = { outcome in if outcome == .reloaded { reloaded.fulfill() } }
        store.startWatching(interval: 0.05)
        defer { store.stopWatching() }
        try write(WellbeingPolicy.defaultJSON.replacingOccurrences(of: "\"humanReviewMinSeverity\": 3",
                                                                   with: "\"humanReviewMinSeverity\": 2"), to: url)
        wait(for: [reloaded], timeout: 5)
        XCTAssertEqual(store.policy.humanReviewMinSeverity, 2)
    }
}
