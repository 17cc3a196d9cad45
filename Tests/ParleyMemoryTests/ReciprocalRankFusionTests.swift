import ParleyMemory
import ParleyStore
import Testing

@Suite("Reciprocal rank fusion and search terms")
struct ReciprocalRankFusionTests {
    @Test func scoresAreSumsOfReciprocalRanks() {
        let fused = ReciprocalRankFusion(k: 60).fuse([["a", "b", "c"], ["b", "d"]])
        #expect(fused.map(\.id) == ["b", "a", "d", "c"])
        #expect(abs(fused[0].score - (1.0 / 62 + 1.0 / 61)) < 1e-12)
        #expect(abs(fused[1].score - 1.0 / 61) < 1e-12)
        #expect(abs(fused[2].score - 1.0 / 62) < 1e-12 && abs(fused[3].score - 1.0 / 63) < 1e-12)
    }

    @Test func tiesKeepFirstAppearanceAndEmptyListsAreFine() {
        #expect(ReciprocalRankFusion().fuse([["x"], ["y"]]).map(\.id) == ["x", "y"])
        #expect(ReciprocalRankFusion().fuse([[String](), []]).isEmpty)
        #expect(ReciprocalRankFusion().fuse([["only"], []]).map(\.id) == ["only"])
    }

    @Test func searchTermsSplitWordsAndChinese() {
        #expect(MemorySearchTerms.terms("I'm allergic to Peanuts!") == ["allergic", "peanuts"])
        #expect(MemorySearchTerms.terms("我是素食者") == ["我是", "是素", "素", "素食", "食", "食者", "者"])
        #expect(MemorySearchTerms.terms("Go语言 2026") == ["go", "语", "语言", "言", "2026"])
        #expect(MemorySearchTerms.queryTerms("tea tea 茶") == ["tea", "茶"])
        #expect(MemorySearchTerms.terms("\"*(NEAR)-\"").allSatisfy { $0.unicodeScalars.allSatisfy { $0.properties.isAlphabetic } })
    }
}
