// ParleyTokenizer: byte-level BPE and SentencePiece tokenizers from GGUF metadata; chat templates (a Jinja subset).
