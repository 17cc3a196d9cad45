import Foundation
import ParleyEval
import Testing

/// Prompt formats as lm-evaluation-harness builds them, on rows written out here.
struct TaskFormatTests {
    func row(_ json: String) throws -> DatasetValue {
        try JSONDecoder().decode(DatasetValue.self, from: Data(json.utf8))
    }

    @Test func hellaswagCleanupMatchesTheHarness() {
        // lm-eval hellaswag/utils.py preprocess on WikiHow-style text: " [title]" -> ". ", other tags dropped,
        // double spaces collapsed once.
        #expect(TextFilter.hellaswagPreprocess(" Making tea [title] Boil water. [step] Pour it.  ") ==
                "Making tea. Boil water. Pour it.")
        #expect(TextFilter.hellaswagPreprocess("a [header] b") == "a b")
        // Python's str.capitalize lowers the rest.
        #expect(TextFilter.pythonCapitalize("then THE man") == "Then the man")
    }

    @Test func hellaswagItem() throws {
        let task = try TaskRegistry.task(named: "hellaswag")
        let items = try task.multipleChoiceItems([try row("""
            {"activity_label": "Roof shingle removal", "ctx_a": "A man is sitting on a roof.", "ctx_b": "he",
             "endings": ["is using wrap to wrap a pair of skis.", "starts pulling up roofing on a roof. [title] x"],
             "label": "1"}
            """)])
        #expect(items[0].contexts == Array(repeating: "Roof shingle removal: A man is sitting on a roof. He", count: 2))
        #expect(items[0].continuations == [" is using wrap to wrap a pair of skis.", " starts pulling up roofing on a roof.. x"])
        #expect(items[0].choices[0] == "is using wrap to wrap a pair of skis.")
        #expect(items[0].gold == 1)
    }

    @Test func arcItemFindsTheGoldLabel() throws {
        let task = try TaskRegistry.task(named: "arc_easy")
        let items = try task.multipleChoiceItems([try row("""
            {"id": "x", "question": "Which is a metal?", "choices": {"text": ["wood", "iron", "glass"], "label": ["A", "B", "C"]},
             "answerKey": "B"}
            """)])
        #expect(items[0].contexts[0] == "Question: Which is a metal?\nAnswer:")
        #expect(items[0].continuations == [" wood", " iron", " glass"])
        #expect(items[0].gold == 1)
    }

    @Test func piqaItem() throws {
        let items = try TaskRegistry.task(named: "piqa").multipleChoiceItems([try row("""
            {"goal": "Open a jar", "sol1": "Twist the lid.", "sol2": "Hit it.", "label": 0}
            """)])
        #expect(items[0].contexts[0] == "Question: Open a jar\nAnswer:")
        #expect(items[0].continuations == [" Twist the lid.", " Hit it."])
        #expect(items[0].gold == 0)
    }

    @Test func winograndeScoresTheSentenceEndPartially() throws {
        let items = try TaskRegistry.task(named: "winogrande").multipleChoiceItems([try row("""
            {"sentence": "Sarah was a better surgeon than Maria so _ got the easier cases.", "option1": "Sarah",
             "option2": "Maria", "answer": "2"}
            """)])
        #expect(items[0].contexts == ["Sarah was a better surgeon than Maria so Sarah",
                                      "Sarah was a better surgeon than Maria so Maria"])
        #expect(items[0].continuations == [" got the easier cases.", " got the easier cases."])
        #expect(items[0].gold == 1)
    }

    @Test func badRowsGetClearErrors() throws {
        let task = try TaskRegistry.task(named: "arc_easy")
        #expect(throws: EvalError.self) {
            _ = try task.multipleChoiceItems([try row(#"{"question": "q", "choices": {"text": ["a"], "label": ["A"]}, "answerKey": "Z"}"#)])
        }
        #expect(throws: EvalError.self) { _ = try TaskRegistry.task(named: "no_such_task") }
    }

    @Test func everyShippedTaskIsWellFormed() throws {
        let tasks = try TaskRegistry.all()
        for name in ["arc_easy", "arc_challenge", "hellaswag", "piqa", "winogrande", "humaneval"] {
            #expect(tasks.contains { $0.name == name }, "\(name)")
        }
        for task in tasks { #expect(DatasetCatalog.file(task.dataset) != nil, "\(task.name)") }
    }

    @Test func letteredPromptAndReplies() {
        let item = MultipleChoiceItem(index: 0, contexts: ["Q"], continuations: [" a"], choices: ["a", "b"], gold: 1,
                                      question: "Question: 2+2?\nAnswer:", options: ["3", "4"])
        #expect(ProviderBackend.letteredPrompt(item) == "Question: 2+2?\nAnswer:\n\nA. 3\nB. 4\n\nAnswer with the letter of the correct option only.")
        #expect(ProviderBackend.parseLetter("B", options: 2) == 1)
        #expect(ProviderBackend.parseLetter("The answer is A.", options: 2) == 0)
        #expect(ProviderBackend.parseLetter("I think so", options: 2) == nil)
    }
}
