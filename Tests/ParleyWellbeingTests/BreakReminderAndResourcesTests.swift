import Foundation
import ParleyWellbeing
import XCTest

final class BreakReminderTests: XCTestCase {
    let utc = TimeZone(identifier: "UTC")!
    let policy = WellbeingPolicy.default.breakReminders  // 30 min gap, 120 min continuous, late night 0-5h after 45 min

    func date(_ hour: Int, _ minute: Int, day: Int = 1) -> Date {
        var c = DateComponents(); c.year = 2025; c.month = 3; c.day = day; c.hour = hour; c.minute = minute
        var cal = Calendar(identifier: .gregorian); cal.timeZone = utc
        return cal.date(from: c)!
    }

    func messages(from start: Date, minutes: Int, every: Int = 10) -> [Date] {
        stride(from: 0, through: minutes, by: every).map { start.addingTimeInterval(Double($0) * 60) }
    }

    func testLongContinuousSessionGetsAReminder() {
        let times = messages(from: date(14, 0), minutes: 130)
        let r = BreakReminder.evaluate(messageTimes: times, now: date(16, 10), timeZone: utc, lastReminder: nil, policy: policy)
        XCTAssertEqual(r?.reason, .longSession)
        XCTAssertEqual(r?.sessionMinutes ?? 0, 130, accuracy: 0.01)
        XCTAssertNil(BreakReminder.evaluate(messageTimes: messages(from: date(14, 0), minutes: 60), now: date(15, 0),
                                            timeZone: utc, lastReminder: nil, policy: policy))
    }

    func testAGapStartsANewSession() {
        let times = messages(from: date(12, 0), minutes: 60) + messages(from: date(14, 0), minutes: 70)
        XCTAssertNil(BreakReminder.evaluate(messageTimes: times, now: date(15, 10), timeZone: utc, lastReminder: nil, policy: policy))
        // And a session that went idle longer than the gap is over.
        XCTAssertNil(BreakReminder.evaluate(messageTimes: messages(from: date(14, 0), minutes: 130), now: date(17, 0),
                                            timeZone: utc, lastReminder: nil, policy: policy))
    }

    func testLateNightMarathonInTheUsersTimeZone() {
        let times = messages(from: date(23, 30), minutes: 80)  // 23:30 → 00:50 UTC
        let r = BreakReminder.evaluate(messageTimes: times, now: date(0, 50, day: 2), timeZone: utc, lastReminder: nil, policy: policy)
        XCTAssertEqual(r?.reason, .lateNight)
        XCTAssertEqual(r?.lateNightMinutes ?? 0, 50, accuracy: 0.01)
        // The same instants are mid-afternoon in Shanghai (UTC+8): no late-night reminder there.
        let shanghai = TimeZone(identifier: "Asia/Shanghai")!
        XCTAssertNil(BreakReminder.evaluate(messageTimes: times, now: date(0, 50, day: 2), timeZone: shanghai, lastReminder: nil, policy: policy))
    }

    func testRepeatSuppressionAndDisabled() {
        let times = messages(from: date(14, 0), minutes: 130)
        XCTAssertNil(BreakReminder.evaluate(messageTimes: times, now: date(16, 10), timeZone: utc, lastReminder: date(15, 40), policy: policy))
        XCTAssertNotNil(BreakReminder.evaluate(messageTimes: times, now: date(16, 10), timeZone: utc, lastReminder: date(14, 30), policy: policy))
        var off = policy; off.enabled = false
        XCTAssertNil(BreakReminder.evaluate(messageTimes: times, now: date(16, 10), timeZone: utc, lastReminder: nil, policy: off))
    }
}

final class CrisisResourcesTests: XCTestCase {
    let resources = CrisisResources.builtIn

    func testEveryEntryNamesItsSource() {
        XCTAssertFalse(resources.entries.isEmpty)
        for e in resources.entries {
            XCTAssertTrue(e.source.hasPrefix("http"), "\(e.id) has no source URL")
            XCTAssertTrue(e.phone != nil || e.text != nil || e.url != nil, "\(e.id) gives no way to reach it")
        }
    }

    func testCardsPerLocale() {
        let us = resources.card(forLocale: "en-US")
        XCTAssertEqual(us.first?.phone, "988")
        XCTAssertTrue(resources.card(forLocale: "en_GB").contains { $0.phone == "116 123" && $0.name == "Samaritans" })
        let cn = resources.card(forLocale: "zh-Hans-CN")
        XCTAssertTrue(cn.contains { $0.phone == "010-82951332" })
        XCTAssertTrue(cn.contains { $0.phone == "400-161-9995" })
        XCTAssertTrue(cn.contains { $0.phone == "12356" })
        XCTAssertEqual(resources.card(forLocale: "zh").first?.regions, ["CN"])
        let elsewhere = resources.card(forLocale: "fr-FR")
        XCTAssertFalse(elsewhere.isEmpty)
        XCTAssertTrue(elsewhere.allSatisfy { $0.regions.isEmpty }, "unknown regions get the international fallback only")
        XCTAssertTrue(us.contains { $0.url == "https://findahelpline.com/" }, "the fallback is always on the card")
    }

    func testCustomResourcesNeedAFallback() {
        let onlyUS = #"[{"id":"x","regions":["US"],"languages":["en"],"name":"X","phone":"1","source":"https://example.org"}]"#
        XCTAssertThrowsError(try CrisisResources.parse(Data(onlyUS.utf8)))
    }
}
