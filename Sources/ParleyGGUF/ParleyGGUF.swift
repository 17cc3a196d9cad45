// ParleyGGUF: memory-mapped GGUF reader.
