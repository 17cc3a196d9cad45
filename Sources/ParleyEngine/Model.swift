import Foundation
import ParleyGGUF
import ParleyTokenizer

/// A model loaded from a GGUF file: its network, tokenizer and chat template. Immutable and shareable;
/// sessions hold the per-conversation state.
public final class Model: @unchecked Sendable {
    public let path: String
    public let file: GGUFFile
    public let network: LanguageModel
    public let tokenizer: Tokenizer
    /// The model's own `tokenizer.chat_template`, or ChatML when the file has none (as llama.cpp does).
    public let chatTemplate: ChatTemplate
    public let hasOwnChatTemplate: Bool

    public var hyperparameters: Hyperparameters { network.hyperparameters }

    /// Text that ends an assistant turn under the chat template but is not a token of this vocabulary — the
    /// ChatML fallback's `<|im_end|>` on a model without its own template — so generation stops there too.
    public var chatStopStrings: [String] {
        let endOfTurn = "<|im_end|>"
        guard !hasOwnChatTemplate, tokenizer.tokenID(forText: endOfTurn) == nil else { return [] }
        return [endOfTurn]
    }

    /// Loads the model at `path`; with `adapter`, its LoRA updates are applied in every forward pass.
    public init(path: String, adapter: LoRAAdapter? = nil) throws {
        self.path = path
        file = try GGUFFile(path: path)
        network = try ModelRegistry.load(file, adapter: adapter)
        tokenizer = try Tokenizer(gguf: file)
        if let source = file.metadata.string("tokenizer.chat_template") {
            chatTemplate = try ChatTemplate(source: source)
            hasOwnChatTemplate = true
        } else {
            chatTemplate = ChatTemplate.chatML
            hasOwnChatTemplate = false
        }
        let vocab = network.hyperparameters.vocabularySize
        guard tokenizer.vocabularySize <= vocab else {
            throw EngineError.invalidMetadata(
                key: "tokenizer.ggml.tokens",
                reason: "\(tokenizer.vocabularySize) tokens but the embedding has \(vocab) rows")
        }
        file.releaseMetadataPages()  // everything above has been decoded into memory of its own
        #if os(Linux)
        _ = glibcMallocTrim(0)  // hand back the heap the metadata and tokenizer parsing used only while loading
        #endif
    }

    /// A new conversation. `contextLength` defaults to the trained length capped at 4096 tokens.
    public func makeSession(contextLength: Int? = nil, threads: Int? = nil, maxBatch: Int = 128) -> Session {
        let context = max(1, contextLength ?? min(hyperparameters.trainedContextLength, 4096))
        return Session(model: self, contextLength: context, threads: max(1, threads ?? Self.defaultThreads),
                       maxBatch: maxBatch)
    }

    /// Every core the process may use.
    public static var defaultThreads: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Scratch memory and worker threads for running batches of up to `maxBatch` tokens, returning up to
    /// `maxLogitRows` rows of logits, over sequences of up to `maxSequenceLength` positions.
    public func makeWorkspace(threads: Int, maxBatch: Int, maxLogitRows: Int, maxSequenceLength: Int) -> Workspace {
        Workspace(hyper: hyperparameters, threads: max(1, threads), maxBatch: max(1, maxBatch),
                  maxLogitRows: max(1, min(maxLogitRows, maxBatch)), attentionCapacity: max(1, maxSequenceLength))
    }

    /// A KV cache of `blocks` blocks of `KVBlockPool.blockSize` positions, shared by the sequences made on it.
    public func makeKVPool(blocks: Int) -> KVBlockPool {
        KVBlockPool(layers: hyperparameters.blockCount, kvLength: hyperparameters.kvLength, blocks: blocks)
    }

    /// Runs one batch — tokens of one or several sequences, each at its next position — through the network.
    /// Reserves cache blocks first (throws, running nothing, when a sequence or the pool is full). Logit rows
    /// of the entries that want them are left in `workspace.logits`, in batch order.
    public func run(_ batch: [BatchEntry], workspace: Workspace) throws {
        precondition(batch.count <= workspace.maxBatch, "batch larger than the workspace")
        precondition(batch.lazy.filter(\.wantsLogits).count <= workspace.maxLogitRows, "too many logit rows")
        let vocab = hyperparameters.vocabularySize
        for entry in batch {
            guard entry.token >= 0, Int(entry.token) < vocab else {
                throw EngineError.tokenOutOfRange(entry.token, vocabulary: vocab)
            }
            guard entry.position < workspace.attentionCapacity else {
                throw EngineError.contextFull(capacity: workspace.attentionCapacity)
            }
            try entry.sequence.reserve(entry.position + 1)
        }
        batch.withUnsafeBufferPointer { network.forward($0, workspace: workspace) }
    }

    /// The prompt for a conversation, rendered with the model's template.
    public func renderChat(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String {
        try chatTemplate.render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                bosToken: tokenizer.bos.map { tokenizer.tokenText($0) } ?? "",
                                eosToken: tokenizer.eos.map { tokenizer.tokenText($0) } ?? "")
    }

    /// The prompt for a conversation given as template values (OpenAI-style message objects with content
    /// parts, tool calls, ...), rendered with the model's template; `extra` adds variables such as `tools`.
    public func renderChat(_ messages: [TemplateValue], addGenerationPrompt: Bool = true,
                           extra: [String: TemplateValue] = [:]) throws -> String {
        try chatTemplate.render(messages: messages, addGenerationPrompt: addGenerationPrompt,
                                bosToken: tokenizer.bos.map { tokenizer.tokenText($0) } ?? "",
                                eosToken: tokenizer.eos.map { tokenizer.tokenText($0) } ?? "", extra: extra)
    }

    /// Tokens of a text prompt: special tokens parsed, BOS as the metadata says (llama.cpp's completion rule).
    public func tokenizePrompt(_ text: String) -> [TokenID] {
        tokenizer.encode(text, addSpecial: true, parseSpecial: true)
    }
}

#if os(Linux)
/// glibc's malloc_trim (not exported by the Glibc module).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
