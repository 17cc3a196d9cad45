// ParleyEngine: model architectures, KV cache, sampling, generation.
