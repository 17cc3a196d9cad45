import Foundation
import ParleyTestSupport
import ParleyWellbeing
import XCTest

final class RiskModelTests: XCTestCase {
    func load(_ name: String) throws -> [WellbeingDatasetItem] {
        try WellbeingEvaluation.loadDataset(Data(contentsOf: TestModels.fixture("wellbeing/\(name)")))
    }

    func testShippedWeightsLoad() throws {
        let model = try XCTUnwrap(RiskModel.builtIn, "ModelWeights.swift does not decode")
        XCTAssertEqual(model.bias.count, RiskModel.classes.count)
        XCTAssertGreaterThan(model.weights.count, 50)
        XCTAssertGreaterThanOrEqual(model.threshold, 0.5)
        let trainedOn = try load("dev.jsonl").count + load("train.jsonl").count
        XCTAssertEqual(model.notes["items"], "\(trainedOn)", "weights were trained on different sets: run parley wellbeing train (see its help)")
        XCTAssertNotNil(model.acuteUpgradeThreshold)
    }

    func testTrainingIsDeterministicAndLearnsSomething() throws {
        let items = try load("dev.jsonl").enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
        var options = RiskModelTrainer.Options()
        options.epochs = 8
        options.folds = 2
        let a = RiskModelTrainer.train(items, assessor: WellbeingAssessor(model: nil), options: options)
        let b = RiskModelTrainer.train(items, assessor: WellbeingAssessor(model: nil), options: options)
        XCTAssertEqual(try a.encoded(), try b.encoded())
        // On its own training items the model prefers the right class for most of them.
        let assessor = WellbeingAssessor(model: a)
        let agree = items.filter { assessor.assess($0.messages).category == $0.category }.count
        XCTAssertGreaterThan(Double(agree) / Double(items.count), 0.8)
    }

    func testDecodeRejectsWrongShapes() {
        let bad = #"{"version":1,"bias":[0,0],"weights":{},"threshold":0.5,"notes":{}}"#
        XCTAssertThrowsError(try RiskModel.decode(Data(bad.utf8)))
    }

    func testPolicyCanTurnTheModelOff() throws {
        let json = WellbeingPolicy.defaultJSON.replacingOccurrences(of: "\"model\": {\"enabled\": true}", with: "\"model\": {\"enabled\": false}")
        let p = try WellbeingPolicy.parse(Data(json.utf8))
        XCTAssertFalse(p.modelEnabled)
        XCTAssertNil(WellbeingAssessor(policy: p).model)
        XCTAssertNotNil(WellbeingAssessor().model)
    }

    /// Held-out sets 2 and 3 were written later in phrasing unlike the patterns (see Tests/Fixtures/wellbeing/README.md).
    /// They are far from the targets; this guards what the model adds there and that it stays quiet on non-risk items.
    func testModelAddsRecallOnUnseenPhrasingWithoutFalseAlarms() throws {
        let items = try load("heldout2.jsonl") + load("heldout3.jsonl")
        func caught(_ assessor: WellbeingAssessor) -> (risk: Double, falseAlarms: Double) {
            let r = WellbeingEvaluation.run(items, assessor: assessor)
            let risk = r.filter { $0.item.category != .none }, none = r.filter { $0.item.category == .none }
            return (Double(risk.filter { $0.assessment.action != .none }.count) / Double(risk.count),
                    Double(none.filter { $0.assessment.action != .none }.count) / Double(none.count))
        }
        let patterns = caught(WellbeingAssessor(model: nil)), withModel = caught(WellbeingAssessor())
        XCTAssertGreaterThan(withModel.risk, patterns.risk + 0.2, "patterns \(patterns), with model \(withModel)")
        XCTAssertLessThanOrEqual(withModel.falseAlarms, 0.10)
    }
}
