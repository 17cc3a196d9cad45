import Foundation
import ParleyEval
import Testing

/// Every IFEval checker on a response that follows it and one that does not, worked out by hand.
struct InstructionFollowingTests {
    private func check(_ id: String, _ kwargs: [String: DatasetValue], _ response: String) throws -> Bool {
        try IFEvalInstruction(id: id, kwargs: kwargs).isFollowed(by: response)
    }

    private func check(_ id: String, _ response: String) throws -> Bool { try check(id, [:], response) }

    private func s(_ v: String) -> DatasetValue { .string(v) }
    private func i(_ v: Int) -> DatasetValue { .int(v) }
    private func l(_ v: [String]) -> DatasetValue { .list(v.map(DatasetValue.string)) }

    @Test func punctuationAndQuotation() throws {
        #expect(try check("punctuation:no_comma", "No commas here."))
        #expect(try !check("punctuation:no_comma", "One, two."))
        #expect(try check("startend:quotation", "  \"Wrapped.\"\n"))
        #expect(try !check("startend:quotation", "\"Not closed."))
        #expect(try !check("startend:quotation", "\""))
    }

    @Test func lengths() throws {
        // \w+ words: "It's" is two (It, s); 5 words.
        #expect(try check("length_constraints:number_words", ["num_words": i(5), "relation": s("at least")], "It's a fine day."))
        #expect(try !check("length_constraints:number_words", ["num_words": i(5), "relation": s("less than")], "It's a fine day."))
        // Three sentences; "Dr." and "3.5" do not end one.
        let three = "Dr. Smith arrived at 3.5 p.m. sharp. Was he late? No!"
        #expect(try check("length_constraints:number_sentences", ["num_sentences": i(3), "relation": s("at least")], three))
        #expect(try !check("length_constraints:number_sentences", ["num_sentences": i(4), "relation": s("at least")], three))
        #expect(try check("length_constraints:number_sentences", ["num_sentences": i(4), "relation": s("less than")], three))
        // Paragraphs split by ***; empty ends are fine, an empty middle one is not.
        #expect(try check("length_constraints:number_paragraphs", ["num_paragraphs": i(2)], "One.\n***\nTwo.\n***"))
        #expect(try !check("length_constraints:number_paragraphs", ["num_paragraphs": i(3)], "One.\n***\n***\nTwo."))
        let first = ["num_paragraphs": i(2), "nth_paragraph": i(2), "first_word": s("then")]
        #expect(try check("length_constraints:nth_paragraph_first_word", first, "First things.\n\n\"Then, more.\""))
        #expect(try !check("length_constraints:nth_paragraph_first_word", first, "First things.\n\nAnd then more."))
        #expect(try !check("length_constraints:nth_paragraph_first_word", first, "Then only one."))
    }

    @Test func keywords() throws {
        #expect(try check("keywords:existence", ["keywords": l(["Paris", "river"])], "paris has a RIVER."))
        #expect(try !check("keywords:existence", ["keywords": l(["Paris", "river"])], "Paris has a bridge."))
        // Whole words only: "cats" does not contain the forbidden word "cat".
        #expect(try check("keywords:forbidden_words", ["forbidden_words": l(["cat"])], "I like cats."))
        #expect(try !check("keywords:forbidden_words", ["forbidden_words": l(["cat"])], "The Cat sat."))
        let freq: [String: DatasetValue] = ["keyword": s("data"), "frequency": i(2), "relation": s("at least")]
        #expect(try check("keywords:frequency", freq, "Data beats opinions; big data wins."))
        #expect(try !check("keywords:frequency", freq, "Data beats opinions."))
        let letters: [String: DatasetValue] = ["letter": s("z"), "let_frequency": i(3), "let_relation": s("less than")]
        #expect(try check("keywords:letter_frequency", letters, "Zebras zoom."))          // 2 z's
        #expect(try !check("keywords:letter_frequency", letters, "Zebras zoom zealously."))  // 3
    }

    @Test func formats() throws {
        #expect(try check("detectable_format:number_highlighted_sections", ["num_highlights": i(2)], "*one* and *two*"))
        #expect(try !check("detectable_format:number_highlighted_sections", ["num_highlights": i(2)], "*one* and ** **"))
        #expect(try check("detectable_format:number_bullet_lists", ["num_bullets": i(2)], "Intro\n* a\n- b\n"))
        #expect(try !check("detectable_format:number_bullet_lists", ["num_bullets": i(2)], "* a\n* b\n* c"))
        #expect(try check("detectable_format:title", "<<A Poem>>\nRoses."))
        #expect(try !check("detectable_format:title", "<< >> and <no title>"))
        #expect(try check("detectable_format:json_format", "```json\n{\"a\": [1, 2]}\n```"))
        #expect(try !check("detectable_format:json_format", "Here: {\"a\": 1}"))
        let sections: [String: DatasetValue] = ["section_spliter": s("SECTION"), "num_sections": i(2)]
        #expect(try check("detectable_format:multiple_sections", sections, "SECTION 1\nIntro\nSECTION 2\nBody"))
        #expect(try !check("detectable_format:multiple_sections", sections, "SECTION 1\nAll of it"))
        #expect(try check("detectable_format:constrained_response", "  My answer is maybe. "))
        #expect(try !check("detectable_format:constrained_response", "Maybe."))
    }

    @Test func contentStartAndEnd() throws {
        #expect(try check("detectable_content:number_placeholders", ["num_placeholders": i(2)], "Dear [name], at [address]."))
        #expect(try !check("detectable_content:number_placeholders", ["num_placeholders": i(2)], "Dear [name]."))
        #expect(try check("detectable_content:postscript", ["postscript_marker": s("P.S.")], "Body.\nP.S. Bring snacks."))
        #expect(try check("detectable_content:postscript", ["postscript_marker": s("P.P.S")], "Body.\np. p. s: later"))
        #expect(try !check("detectable_content:postscript", ["postscript_marker": s("P.S.")], "Body only."))
        #expect(try check("startend:end_checker", ["end_phrase": s("Is there anything else I can help with?")],
                          "Done. Is there anything else I can help with?\""))
        #expect(try !check("startend:end_checker", ["end_phrase": s("Any questions?")], "Any questions? Bye."))
        #expect(try check("combination:repeat_prompt", ["prompt_to_repeat": s("Write a haiku.")], "write a haiku. Leaves fall softly."))
        #expect(try !check("combination:repeat_prompt", ["prompt_to_repeat": s("Write a haiku.")], "Sure! Write a haiku."))
        #expect(try check("combination:two_responses", "First answer.\n******\nSecond answer."))
        #expect(try !check("combination:two_responses", "Same.\n******\nSame."))
        #expect(try !check("combination:two_responses", "A\n******\n\n******\nB"))
    }

    @Test func caseAndLanguage() throws {
        #expect(try check("change_case:english_lowercase", "this is all lowercase and it is english."))
        #expect(try !check("change_case:english_lowercase", "This has a capital."))
        #expect(try check("change_case:english_capital", "THIS IS ALL CAPITALS AND IT IS ENGLISH."))
        #expect(try !check("change_case:english_capital", "THIS IS MOSTLY capitals."))
        let caps: [String: DatasetValue] = ["capital_frequency": i(2), "capital_relation": s("at least")]
        #expect(try check("change_case:capital_word_frequency", caps, "The NASA and ESA missions, well-KNOWN."))  // NASA, ESA
        #expect(try !check("change_case:capital_word_frequency", caps, "Only NASA here."))
        #expect(try check("language:response_language", ["language": s("de")], "Das ist nicht der Weg, und ich weiß es."))
        #expect(try !check("language:response_language", ["language": s("de")], "This is the way, and I know it."))
        #expect(try check("language:response_language", ["language": s("hi")], "यह एक अच्छा दिन है और मैं खुश हूँ।"))
        #expect(try check("language:response_language", ["language": s("ko")], "오늘은 좋은 날입니다."))
        #expect(try check("language:response_language", ["language": s("ru")], "Это хороший день, и я не устал."))
        #expect(LanguageGuess.detect("12345 !!!") == nil)
    }

    @Test func looseForgivesAPreambleAndMarkdownStrictDoesNot() throws {
        let instructions = [try IFEvalInstruction(id: "startend:quotation"), try IFEvalInstruction(id: "punctuation:no_comma")]
        let reply = "Sure, here it is:\n\"A quoted answer\""
        #expect(try IFEval.strict(instructions, response: reply) == [false, false])
        #expect(try IFEval.loose(instructions, response: reply) == [true, true])
        // An empty reply follows nothing, even "no commas".
        #expect(try IFEval.strict(instructions, response: "  ") == [false, false])
        #expect(throws: EvalError.self) { try IFEvalInstruction(id: "made:up") }
        #expect(throws: EvalError.self) { try check("length_constraints:number_words", ["num_words": i(3)], "x") }
    }

    @Test func theShippedTaskReadsEveryInstructionOfItsDatasetShape() throws {
        let task = try TaskRegistry.task(named: "ifeval")
        #expect(task.kind == .instructionFollowing && task.primaryMetric == "prompt_level_strict_acc")
        let row = DatasetValue.record([
            "key": .int(1), "prompt": .string("Write two sentences without commas."),
            "instruction_id_list": .list([.string("punctuation:no_comma"), .string("length_constraints:number_sentences")]),
            "kwargs": .list([.record([:]), .record(["num_sentences": .int(2), "relation": .string("at least"), "unused": .null])]),
        ])
        let items = try task.instructionItems([row])
        #expect(items.count == 1 && items[0].prompt == "Write two sentences without commas.")
        #expect(items[0].instructions.map(\.id) == ["punctuation:no_comma", "length_constraints:number_sentences"])
        #expect(try IFEval.strict(items[0].instructions, response: "One. Two.") == [true, true])
    }
}
